import { lazy, Suspense, useEffect, useState } from 'react';
import { useLabStore } from '../stores/lab-store.ts';
import { AuditLogTab } from './lab/AuditLogTab.tsx';
import { Completion } from './lab/Completion.tsx';
import { FilesTab } from './lab/FilesTab.tsx';
import { NotesTab } from './lab/NotesTab.tsx';
import { RunBar } from './lab/RunBar.tsx';
import { StepList } from './lab/StepList.tsx';

// The terminal (xterm.js, most of the page's weight) loads only once the lab runs.
const loadTerminal = () => import('./Terminal.tsx');
const Terminal = lazy(loadTerminal);

const TABS = [
  { id: 'terminal', label: 'Terminal' },
  { id: 'audit', label: 'Audit log' },
  { id: 'files', label: 'Files' },
  { id: 'notes', label: 'Notes' },
] as const;
type TabId = (typeof TABS)[number]['id'];

/** The lab workspace: the steps on one side; the terminal, audit log, files and notes on the other. */
export default function LabPanel({ slug }: { slug: string }) {
  const { lab, busy, error, load } = useLabStore();
  const [tab, setTab] = useState<TabId>('terminal');
  useEffect(() => {
    void load(slug);
  }, [slug, load]);
  // Fetch the terminal's code while the cluster is being made, so it is there when the lab runs.
  useEffect(() => {
    if (busy === 'start' || busy === 'reset') void loadTerminal().catch(() => {});
  }, [busy]);

  if (!lab) return <p className="muted">{error ?? 'Loading the lab…'}</p>;
  const running = Boolean(lab.run);
  return (
    <section className="lab-panel" aria-labelledby="lab-panel-title">
      <header className="lab-header">
        <h2 id="lab-panel-title">{lab.title}</h2>
        <p>{lab.summary}</p>
        <RunBar />
      </header>
      <Completion lab={lab} />
      <div className="lab-layout">
        <StepList lab={lab} running={running} />
        <div className="lab-workbench">
          <div role="tablist" aria-label="Workspace">
            {TABS.map((t) => (
              <button key={t.id} type="button" role="tab" id={`tab-${t.id}`} aria-selected={tab === t.id} aria-controls={`pane-${t.id}`} onClick={() => setTab(t.id)}>
                {t.label}
              </button>
            ))}
          </div>
          {/* Panes stay mounted once shown (a hidden terminal keeps its connection). */}
          <div role="tabpanel" id="pane-terminal" aria-labelledby="tab-terminal" hidden={tab !== 'terminal'}>
            {running ? (
              <Suspense fallback={<p className="muted">Loading the terminal…</p>}>
                {/* Keyed by cluster: after a reset the shell reconnects to the new cluster. */}
                <Terminal key={lab.run!.cluster} label={`Shell for ${lab.title}`} />
              </Suspense>
            ) : (
              <p className="muted">Your terminal appears here once the lab has started.</p>
            )}
          </div>
          <div role="tabpanel" id="pane-audit" aria-labelledby="tab-audit" hidden={tab !== 'audit'}>
            {running && tab === 'audit' ? <AuditLogTab cluster={lab.run!.cluster} /> : <p className="muted">Start the lab to query its audit log.</p>}
          </div>
          <div role="tabpanel" id="pane-files" aria-labelledby="tab-files" hidden={tab !== 'files'}>
            <FilesTab />
          </div>
          <div role="tabpanel" id="pane-notes" aria-labelledby="tab-notes" hidden={tab !== 'notes'}>
            <NotesTab />
          </div>
        </div>
      </div>
    </section>
  );
}
