import { useEffect, useId, useRef, useState } from 'react';
import { formatClock } from '../lib/drill-socket.ts';
import type { LogEntry, LogEntryKind, PostLogRequest } from '../lib/drill-view.ts';

const kindWords: Record<LogEntryKind, string> = {
  note: 'Note',
  decision: 'Decision',
  inject: 'Inject',
  attack: 'Attacker action',
  'attack-skipped': 'Attack not carried out',
  check: 'Check',
  expectation: 'Expectation',
  system: 'Drill',
};

/** Injects and attacks are what the team must react to: they stand out. */
const highlighted = new Set<LogEntryKind>(['inject', 'attack']);

/**
 * Bodies people write (notes, decisions, manual injects) are Markdown source: only **bold** and
 * `code` are rendered, as React elements (never as HTML); the rest stays text. Scripted injects
 * come with `html`, rendered on the server from the drill file.
 */
export function InlineMarkdown({ text }: { text: string }) {
  const parts = text.split(/(\*\*[^*\n]+\*\*|`[^`\n]+`)/);
  return (
    <>
      {parts.map((part, i) =>
        part.startsWith('**') && part.endsWith('**') && part.length > 4 ? (
          <strong key={i}>{part.slice(2, -2)}</strong>
        ) : part.startsWith('`') && part.endsWith('`') && part.length > 2 ? (
          <code key={i}>{part.slice(1, -1)}</code>
        ) : (
          part
        ),
      )}
    </>
  );
}

function Entry({ entry, live }: { entry: LogEntry; live: boolean }) {
  return (
    <li className={`drill-entry drill-entry-${entry.kind}${highlighted.has(entry.kind) ? ' drill-entry-highlight' : ''}`} data-kind={entry.kind} data-seq={entry.seq} data-live={live || undefined}>
      <div className="drill-entry-head">
        <time dateTime={entry.at} title={new Date(entry.at).toLocaleString()}>
          T+{formatClock(entry.tMs)}
        </time>
        <span className="drill-entry-kind">{kindWords[entry.kind]}</span>
        {entry.author && (
          <span className="drill-entry-author">
            {entry.author.name} <span className="muted">({entry.author.role})</span>
          </span>
        )}
      </div>
      {entry.title && <p className="drill-entry-title">{entry.title}</p>}
      {entry.html ? (
        // A scripted inject: Markdown from the drill file (author content), rendered by the server.
        <div className="drill-entry-body drill-entry-md" dangerouslySetInnerHTML={{ __html: entry.html }} />
      ) : (
        entry.body &&
        entry.body.trim() !== entry.title.trim() && (
          <p className="drill-entry-body">
            <InlineMarkdown text={entry.body.trim()} />
          </p>
        )
      )}
    </li>
  );
}

/**
 * The shared incident log: every entry in order, newest at the bottom, kept in view while the
 * reader is at the bottom (scrolling up to read stops the jumping).
 */
export function DrillLog({ log, loadedSeq }: { log: LogEntry[]; loadedSeq: number }) {
  const list = useRef<HTMLDivElement>(null);
  const pinned = useRef(true);
  useEffect(() => {
    const el = list.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  }, [log.length]);
  return (
    <div
      className="drill-log"
      ref={list}
      role="log"
      aria-label="Incident log"
      tabIndex={0}
      data-testid="drill-log"
      onScroll={(e) => {
        const el = e.currentTarget;
        pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
      }}
    >
      {log.length === 0 ? (
        <p className="muted drill-entry">Nothing logged yet.</p>
      ) : (
        <ol className="drill-log-entries">
          {log.map((entry) => (
            <Entry key={entry.seq} entry={entry} live={loadedSeq >= 0 && entry.seq > loadedSeq} />
          ))}
        </ol>
      )}
    </div>
  );
}

/** Write a note or a decision into the shared log; Ctrl+Enter sends. */
export function LogComposer({ onPost, busy, disabled }: { onPost: (request: PostLogRequest) => Promise<boolean>; busy: boolean; disabled?: boolean }) {
  const id = useId();
  const [kind, setKind] = useState<PostLogRequest['kind']>('note');
  const [text, setText] = useState('');
  const send = async () => {
    const trimmed = text.trim();
    if (!trimmed) return;
    if (await onPost({ kind, text: trimmed })) setText('');
  };
  return (
    <form
      className="drill-composer"
      aria-label="Add to the incident log"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      <fieldset className="drill-kind">
        <legend className="visually-hidden">Entry kind</legend>
        {(['note', 'decision'] as const).map((k) => (
          <label key={k}>
            <input type="radio" name={`${id}-kind`} value={k} checked={kind === k} onChange={() => setKind(k)} /> {k === 'note' ? 'Note' : 'Decision'}
          </label>
        ))}
      </fieldset>
      <label htmlFor={`${id}-text`} className="visually-hidden">
        {kind === 'note' ? 'Note' : 'Decision'} text
      </label>
      <textarea
        id={`${id}-text`}
        value={text}
        rows={2}
        maxLength={4000}
        placeholder={kind === 'note' ? 'What did you see or do?' : 'What did the team decide, and why?'}
        disabled={disabled}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            void send();
          }
        }}
      />
      <button type="submit" className="primary" disabled={disabled || busy || !text.trim()}>
        {busy ? 'Posting…' : kind === 'note' ? 'Post note' : 'Record decision'}
      </button>
    </form>
  );
}
