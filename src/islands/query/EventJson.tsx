import { useEffect, useId, useMemo, useRef, useState, type ReactNode } from 'react';
import { cellText, type Ev } from '../../lib/query/columns.ts';

interface Props {
  event: Ev;
  onClose: () => void;
  /** Pins the event somewhere (case notes, the incident log); resolves to what to tell the reader. */
  onPin?: (event: Ev) => Promise<string>;
  pinLabel?: string;
}

const MAX_HITS = 500;

/** Start offsets of every case-insensitive occurrence of `term` in `text` (at most MAX_HITS). */
export function findAll(text: string, term: string): number[] {
  if (!term) return [];
  const haystack = text.toLowerCase();
  const needle = term.toLowerCase();
  const hits: number[] = [];
  for (let at = haystack.indexOf(needle); at >= 0 && hits.length < MAX_HITS; at = haystack.indexOf(needle, at + needle.length)) hits.push(at);
  return hits;
}

/**
 * One event's JSON, wrapped (long values such as requestURI break instead of running off the
 * side), with a find box that highlights every match and steps through them, and a pin button.
 */
export function EventJson({ event, onClose, onPin, pinLabel = 'Pin to notes' }: Props) {
  const id = useId();
  const text = useMemo(() => JSON.stringify(event, null, 2), [event]);
  const [term, setTerm] = useState('');
  const [current, setCurrent] = useState(0);
  const [pinned, setPinned] = useState('');
  const [pinning, setPinning] = useState(false);
  const hits = useMemo(() => findAll(text, term), [text, term]);
  const currentMark = useRef<HTMLElement>(null);
  useEffect(() => setPinned(''), [event]);
  useEffect(() => {
    currentMark.current?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }, [current, hits]);
  const step = (by: number) => {
    if (hits.length) setCurrent((c) => (c + by + hits.length) % hits.length);
  };
  const at = Math.min(current, Math.max(hits.length - 1, 0));

  const pieces: ReactNode[] = [];
  let from = 0;
  hits.forEach((start, i) => {
    pieces.push(text.slice(from, start));
    const end = start + term.length;
    pieces.push(
      <mark key={start} className={i === at ? 'qp-hit qp-hit-current' : 'qp-hit'} ref={i === at ? currentMark : undefined}>
        {text.slice(start, end)}
      </mark>,
    );
    from = end;
  });
  pieces.push(text.slice(from));

  return (
    <section id="qp-json" className="qp-json" aria-label="Event JSON">
      <div className="qp-json-bar">
        <strong>
          auditID <code>{cellText(event.auditID)}</code>
        </strong>
        <div className="qp-json-actions">
          {onPin && (
            <button
              type="button"
              disabled={pinning}
              onClick={async () => {
                setPinning(true);
                try {
                  setPinned(await onPin(event));
                } finally {
                  setPinning(false);
                }
              }}
            >
              {pinning ? 'Pinning…' : pinLabel}
            </button>
          )}
          <button type="button" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
      <div className="qp-json-find" role="search" aria-label="Find in this event">
        <label htmlFor={`${id}-find`}>Find in event</label>
        <input
          id={`${id}-find`}
          type="search"
          value={term}
          autoComplete="off"
          spellCheck={false}
          aria-describedby={`${id}-count`}
          onChange={(e) => {
            setTerm(e.target.value);
            setCurrent(0);
          }}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              step(e.shiftKey ? -1 : 1);
            }
          }}
        />
        <button type="button" onClick={() => step(-1)} disabled={hits.length < 2} aria-label="Previous match">
          ↑
        </button>
        <button type="button" onClick={() => step(1)} disabled={hits.length < 2} aria-label="Next match">
          ↓
        </button>
        <span id={`${id}-count`} className="muted" aria-live="polite">
          {term ? (hits.length ? `${at + 1} of ${hits.length}${hits.length === MAX_HITS ? '+' : ''}` : 'no match') : 'Enter: next, Shift+Enter: previous'}
        </span>
      </div>
      {pinned && (
        <p className="qp-pinned" role="status">
          {pinned}
        </p>
      )}
      <pre tabIndex={0} aria-label={`JSON of event ${cellText(event.auditID)}`}>
        {pieces}
      </pre>
    </section>
  );
}
