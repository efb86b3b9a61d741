import type { QueryOutput } from '../../lib/query/pipeline.ts';

interface Props {
  output: QueryOutput;
  open: number | undefined;
  onOpen: (index: number | undefined) => void;
}

// Audit events are free-form JSON; the columns read them loosely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Ev = Record<string, any>;
const COLUMNS: [string, (e: Ev) => unknown][] = [
  ['user', (e) => e.user?.username],
  ['verb', (e) => e.verb],
  ['resource', (e) => (e.objectRef ? [e.objectRef.resource, e.objectRef.subresource].filter(Boolean).join('/') : e.requestURI)],
  ['namespace', (e) => e.objectRef?.namespace],
  ['name', (e) => e.objectRef?.name],
  ['code', (e) => e.responseStatus?.code],
  ['sourceIPs', (e) => (Array.isArray(e.sourceIPs) ? e.sourceIPs.join(', ') : '')],
];
const text = (v: unknown) => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));

/** Matching events (the time opens the event's JSON) or aggregation rows. */
export function ResultsTable({ output, open, onOpen }: Props) {
  if (output.kind === 'rows') {
    return (
      <table className="qp-table">
        <caption className="visually-hidden">Aggregation rows</caption>
        <thead>
          <tr>{output.columns.map((c) => <th key={c} scope="col">{c}</th>)}</tr>
        </thead>
        <tbody>
          {output.rows.map((row, i) => (
            <tr key={i}>{output.columns.map((c) => <td key={c}>{text(row[c])}</td>)}</tr>
          ))}
        </tbody>
      </table>
    );
  }
  const events = output.events as Ev[];
  const selected = open === undefined ? undefined : events[open];
  return (
    <>
      <table className="qp-table">
        <caption className="visually-hidden">Matching events; activate a time to see the event's JSON</caption>
        <thead>
          <tr>
            <th scope="col">time (UTC)</th>
            {COLUMNS.map(([name]) => <th key={name} scope="col">{name}</th>)}
          </tr>
        </thead>
        <tbody>
          {events.map((e, i) => (
            <tr key={`${e.auditID}-${i}`} className={open === i ? 'qp-open' : undefined}>
              <td>
                <button type="button" className="qp-link" onClick={() => onOpen(open === i ? undefined : i)} aria-expanded={open === i} aria-controls="qp-json">
                  {text(e.requestReceivedTimestamp).replace('T', ' ').replace('Z', '')}
                </button>
              </td>
              {COLUMNS.map(([name, get]) => <td key={name}>{text(get(e))}</td>)}
            </tr>
          ))}
        </tbody>
      </table>
      {selected && (
        <section id="qp-json" className="qp-json" aria-label="Event JSON">
          <div className="qp-json-bar">
            <strong>auditID {text(selected.auditID)}</strong>
            <button type="button" onClick={() => onOpen(undefined)}>Close</button>
          </div>
          <pre tabIndex={0}>{JSON.stringify(selected, null, 2)}</pre>
        </section>
      )}
    </>
  );
}
