import { useEffect, useId } from 'react';
import { caretLines } from '../lib/query/errors.ts';
import { formatPath } from '../lib/query/fields.ts';
import { addCondition } from '../lib/query/edit.ts';
import { useQueryStore } from '../stores/query-store.ts';
import type { Ev } from '../lib/query/columns.ts';
import { ColumnChooser } from './query/ColumnChooser.tsx';
import { FieldSidebar } from './query/FieldSidebar.tsx';
import { ResultsTable } from './query/ResultsTable.tsx';
import { Timeline } from './query/Timeline.tsx';
import './query/query-panel.css';

interface Props {
  /** The audit log source on the server (a lab's cluster, or "file"). */
  source: string;
  /** Shown the first time, before the learner typed anything. */
  initialQuery?: string;
  /** Pins an opened event (to the case notes, the incident log); resolves to what to tell the reader. */
  onPin?: (event: Ev) => Promise<string>;
  /** The pin button's words, e.g. "Pin to case notes". */
  pinLabel?: string;
}

/**
 * Query an audit log on the server: results table (columns of the reader's choice), top values
 * per field, events per minute with marked and detection-flagged identities highlighted, and any
 * event's JSON, wrapped and searchable, pinned to notes on request. Queries are parsed in the
 * browser first (same parser as the server) so mistakes show at once with their column. The query
 * box is the first thing focusable, so Tab from a tab list lands in it.
 */
export default function QueryPanel({ source, initialQuery = '', onPin, pinLabel }: Props) {
  const { query, status, answer, problem, open, marked, columns, setQuery, run, toggleMark, setOpen, setColumns } = useQueryStore();
  const ids = useId();
  const mine = marked[source] ?? [];

  useEffect(() => {
    if (!useQueryStore.getState().query && initialQuery) setQuery(initialQuery);
  }, [initialQuery, setQuery]);

  const submit = () => void run(source);
  const addFilter = (field: string, value: string | number) => {
    const path = formatPath(field.split('.'));
    const literal = typeof value === 'number' ? String(value) : JSON.stringify(value).replaceAll('*', '\\*');
    setQuery(addCondition(query, `${path} == ${literal}`));
  };
  const caret = problem?.column !== undefined ? caretLines(query, problem.column, problem.length) : undefined;
  const flaggedNames = answer?.flagged.map((f) => f.username) ?? [];
  const highlighted = [...new Set([...mine, ...flaggedNames])];
  const output = answer?.output;
  const count = output ? (output.kind === 'events' ? output.total : output.rows.length) : 0;

  return (
    <section className="query-panel" aria-labelledby={`${ids}-title`}>
      <h2 id={`${ids}-title`}>Query the audit log</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <label htmlFor={`${ids}-q`}>Query</label>
        <textarea
          id={`${ids}-q`}
          value={query}
          rows={4}
          spellCheck={false}
          aria-describedby={`${ids}-help${problem ? ` ${ids}-error` : ''}`}
          aria-invalid={problem?.column !== undefined}
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
              e.preventDefault();
              submit();
            }
          }}
        />
        <p id={`${ids}-help`} className="muted qp-help">
          e.g. <code>verb in ("get", "list") AND objectRef.resource == "secrets" | count by user.username</code> · Ctrl+Enter runs
        </p>
        <button type="submit" disabled={status === 'running'} aria-busy={status === 'running'}>
          {status === 'running' ? 'Running…' : 'Run query'}
        </button>
      </form>

      {problem && (
        <div id={`${ids}-error`} className="qp-error" role="alert">
          {caret && <pre aria-hidden="true">{`${caret.line}\n${caret.caret}`}</pre>}
          <p>
            {caret && <>{caret.where[0]!.toUpperCase() + caret.where.slice(1)}: </>}
            {problem.message}
          </p>
          {problem.hint && <p>Fix: {problem.hint}</p>}
        </div>
      )}

      <p className="qp-status" aria-live="polite">
        {status === 'running' && 'Running the query on the server…'}
        {status === 'done' && answer && (
          <>
            {count} {output?.kind === 'rows' ? `row${count === 1 ? '' : 's'}` : `matching event${count === 1 ? '' : 's'}`} · {answer.scan.lines} lines scanned in {answer.scan.ms} ms
            {answer.scan.malformed > 0 && ` · ${answer.scan.malformed} malformed line${answer.scan.malformed === 1 ? '' : 's'} skipped (first: line ${answer.scan.malformedLines[0]?.line})`}
          </>
        )}
      </p>

      {answer && output && (
        <div className="qp-body">
          <FieldSidebar fields={answer.summary.fields} marked={mine} onFilter={addFilter} onMark={(u) => toggleMark(source, u)} />
          <div className="qp-main">
            {answer.flagged.length > 0 && (
              <p className="qp-flagged">
                Detections flagged:{' '}
                {answer.flagged.map((f) => (
                  <span key={f.username}>
                    <code>{f.username}</code> ({f.rules.join(', ')}){' '}
                    <button type="button" className="qp-mark" aria-pressed={mine.includes(f.username)} onClick={() => toggleMark(source, f.username)} aria-label={`mark ${f.username} as suspicious`}>
                      {mine.includes(f.username) ? 'marked' : 'mark'}
                    </button>{' '}
                  </span>
                ))}
              </p>
            )}
            <Timeline buckets={answer.summary.timeline} highlighted={highlighted} />
            {output.kind === 'events' && <ColumnChooser chosen={columns} onChange={setColumns} />}
            {output.kind === 'events' && output.total > output.events.length && (
              <p className="muted">Showing the first {output.events.length} of {output.total}; narrow the query or add | head, | sort.</p>
            )}
            <ResultsTable output={output} open={open} onOpen={setOpen} columns={columns} {...(onPin ? { onPin } : {})} {...(pinLabel ? { pinLabel } : {})} />
          </div>
        </div>
      )}
    </section>
  );
}
