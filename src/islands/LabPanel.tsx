import { lazy, Suspense, useCallback, useEffect, useRef, useState, type CSSProperties, type KeyboardEvent as ReactKeyboardEvent } from 'react';
import { useLabStore } from '../stores/lab-store.ts';
import { useTerminalInput } from '../stores/terminal-input.ts';
import { AuditLogTab } from './lab/AuditLogTab.tsx';
import { Completion } from './lab/Completion.tsx';
import { EngineBadge } from './lab/EngineBadge.tsx';
import { FilesTab } from './lab/FilesTab.tsx';
import { NotesTab } from './lab/NotesTab.tsx';
import { RunBar } from './lab/RunBar.tsx';
import { ShortcutHelp } from './lab/ShortcutHelp.tsx';
import { SplitSeparator, useSplit } from './lab/SplitSeparator.tsx';
import { StepList } from './lab/StepList.tsx';
import { TABS, workspaceShortcut, type TabId } from './lab/workspace-keys.ts';

// The terminal (xterm.js, most of the page's weight) loads only once the lab runs.
const loadTerminal = () => import('./Terminal.tsx');
const Terminal = lazy(loadTerminal);

/** Where the lab leads: its lesson and the lesson's quiz (computed by the page). */
export interface LabLinks {
  lesson?: { href: string; title: string };
  quiz?: { href: string; title: string };
}

/** Below this width the steps become a tab and there is no split (lab.css says the same). */
const NARROW = '(max-width: 56rem)';

function useNarrow(): boolean {
  const [narrow, setNarrow] = useState(() => window.matchMedia(NARROW).matches);
  useEffect(() => {
    const query = window.matchMedia(NARROW);
    const changed = () => setNarrow(query.matches);
    query.addEventListener('change', changed);
    return () => query.removeEventListener('change', changed);
  }, []);
  return narrow;
}

const isTerminalTab = (tab: TabId) => tab === 'terminal' || tab === 'terminal2';
/** Keys the terminals let through to the workspace. */
const passKey = (event: KeyboardEvent) => workspaceShortcut(event) !== null;

/**
 * The lab workspace, filling the viewport below the site header: a compact header (title, the
 * lesson and quiz, the run bar), the steps on one side of a resizable split and tabs on the other
 * (two terminals, the audit log, files, notes). On a narrow screen the steps are a tab too.
 */
export default function LabPanel({ slug, links = {} }: { slug: string; links?: LabLinks }) {
  const { lab, busy, error, load } = useLabStore();
  const narrow = useNarrow();
  const [tab, setTab] = useState<TabId>('terminal');
  // Panes stay mounted once shown (a hidden terminal keeps its connection).
  const [shown, setShown] = useState<ReadonlySet<TabId>>(() => new Set(['terminal']));
  const [focusWanted, setFocusWanted] = useState<{ pane: TabId } | null>(null);
  const [help, setHelp] = useState(false);
  const [split, setSplit] = useSplit();
  const body = useRef<HTMLDivElement>(null);
  const pending = useTerminalInput((s) => s.pending);

  useEffect(() => {
    void load(slug);
  }, [slug, load]);
  // Fetch the terminal's code while the cluster is being made, so it is there when the lab runs.
  useEffect(() => {
    if (busy === 'start' || busy === 'reset') void loadTerminal().catch(() => {});
  }, [busy]);

  const show = useCallback((pane: TabId, focus = false) => {
    setTab(pane);
    setShown((before) => (before.has(pane) ? before : new Set([...before, pane])));
    if (focus) setFocusWanted({ pane });
  }, []);

  // The steps are a pane of their own when wide: a Steps tab left selected goes to the terminal.
  useEffect(() => {
    if (!narrow && tab === 'steps') setTab('terminal');
  }, [narrow, tab]);

  const running = Boolean(lab?.run);
  // "Run in terminal": the main terminal takes the request; make sure it is the one on screen.
  useEffect(() => {
    if (pending && running) show('terminal');
  }, [pending, running, show]);

  // Focus follows a shortcut once the pane is on screen (a terminal's input, or the pane itself).
  useEffect(() => {
    if (!focusWanted) return;
    const pane = document.getElementById(`pane-${focusWanted.pane}`);
    if (!pane || pane.hidden) return;
    const target = (isTerminalTab(focusWanted.pane) && pane.querySelector<HTMLElement>('.xterm-helper-textarea')) || pane;
    target.focus();
    setFocusWanted(null);
  }, [focusWanted, tab]);

  // Workspace shortcuts, from anywhere on the page (the terminals let them through).
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const action = workspaceShortcut(event);
      if (!action) return;
      event.preventDefault();
      if (action.kind === 'help') return setHelp(true);
      if (action.pane === 'steps' && !narrow) return document.getElementById('pane-steps')?.focus();
      show(action.pane, true);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [narrow, show]);

  if (!lab) return <p className="muted">{error ?? 'Loading the lab…'}</p>;
  const tabs = TABS.filter((t) => narrow || t.id !== 'steps');

  // Tabs: arrows move between them and select (automatic activation), Home and End go to the ends.
  const onTabKey = (event: ReactKeyboardEvent<HTMLButtonElement>) => {
    const at = tabs.findIndex((t) => t.id === tab);
    const to = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: tabs.length - 1 }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    const next = tabs[(to + tabs.length) % tabs.length]!;
    show(next.id);
    document.getElementById(`tab-${next.id}`)?.focus();
  };

  const panel = (id: TabId) => ({
    role: 'tabpanel',
    id: `pane-${id}`,
    'aria-labelledby': `tab-${id}`,
    hidden: tab !== id,
    tabIndex: -1,
    className: `lab-pane lab-pane-${isTerminalTab(id) ? 'terminal' : id}`,
  });
  const terminalPane = (id: 'terminal' | 'terminal2') =>
    !running ? (
      <p className="muted">{id === 'terminal' ? 'Your terminal appears here once the lab has started.' : 'A second shell on the same cluster, once the lab has started.'}</p>
    ) : shown.has(id) ? (
      <Suspense fallback={<p className="muted">Loading the terminal…</p>}>
        {/* Keyed by cluster: after a reset the shell reconnects to the new cluster. */}
        {id === 'terminal' ? (
          <Terminal key={lab.run!.cluster} label={`Shell for ${lab.title}`} slot={1} passKey={passKey} takesInput />
        ) : (
          <Terminal key={lab.run!.cluster} label={`Second shell for ${lab.title}`} slot={2} passKey={passKey} />
        )}
      </Suspense>
    ) : null;

  return (
    <section className="lab-panel" aria-labelledby="lab-panel-title">
      <header className="lab-header">
        <div className="lab-titles">
          <h2 id="lab-panel-title">{lab.title}</h2>
          {/* One wrapping row: the badge takes the space beside the last link (the phone header grows no taller). */}
          <div className="lab-links">
            {(links.lesson || links.quiz) && (
              <nav aria-label="Lesson and quiz">
                {links.lesson && (
                  <a href={links.lesson.href}>
                    <span className="visually-hidden">Lesson: </span>
                    {links.lesson.title}
                  </a>
                )}
                {links.quiz && <a href={links.quiz.href}>{links.quiz.title}</a>}
              </nav>
            )}
            <EngineBadge engine={lab.engine} id="lab-engine" />
          </div>
        </div>
        <RunBar />
        <button type="button" className="lab-help-button" aria-haspopup="dialog" aria-keyshortcuts="Alt+/" onClick={() => setHelp(true)}>
          Keys <kbd>Alt+/</kbd>
        </button>
      </header>
      <div className="lab-body" ref={body} data-layout={narrow ? 'tabs' : 'split'} style={{ '--lab-split': `${split}%` } as CSSProperties}>
        <div
          {...(narrow ? { ...panel('steps'), className: 'lab-pane lab-steps-pane' } : { role: 'region', 'aria-label': 'Steps', id: 'pane-steps', tabIndex: -1, className: 'lab-steps-pane' })}
        >
          <p className="lab-summary">{lab.summary}</p>
          <Completion lab={lab} />
          <StepList lab={lab} running={running} />
        </div>
        {narrow ? null : <SplitSeparator value={split} onChange={setSplit} container={body} controls="pane-steps" />}
        <div className="lab-workbench">
          <div role="tablist" aria-label="Workspace" className="lab-tabs">
            {tabs.map((t) => (
              <button
                key={t.id}
                type="button"
                role="tab"
                id={`tab-${t.id}`}
                aria-selected={tab === t.id}
                aria-controls={`pane-${t.id}`}
                aria-keyshortcuts={t.keys}
                tabIndex={tab === t.id ? 0 : -1}
                onClick={() => show(t.id)}
                onKeyDown={onTabKey}
              >
                {t.label}
              </button>
            ))}
          </div>
          <div {...panel('terminal')}>{terminalPane('terminal')}</div>
          <div {...panel('terminal2')}>{terminalPane('terminal2')}</div>
          <div {...panel('audit')}>{running && shown.has('audit') ? <AuditLogTab cluster={lab.run!.cluster} /> : <p className="muted">Start the lab to query its audit log.</p>}</div>
          <div {...panel('files')}>
            <FilesTab />
          </div>
          <div {...panel('notes')}>
            <NotesTab />
          </div>
        </div>
      </div>
      <ShortcutHelp open={help} onClose={() => setHelp(false)} />
    </section>
  );
}
