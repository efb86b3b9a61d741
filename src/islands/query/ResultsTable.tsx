import type { QueryOutput } from '../../lib/query/pipeline.ts';
import { cellText, visibleColumns, type Ev } from '../../lib/query/columns.ts';
import { EventJson } from './EventJson.tsx';

interface Props {
  output: QueryOutput;
  open: number | undefined;
  onOpen: (index: number | undefined) => void;
  /** Ids of the columns to show (the column chooser's). */
  columns: string[];
  onPin?: (event: Ev) => Promise<string>;
  pinLabel?: string;
}

/** Matching events (the time opens the event's JSON) or aggregation rows. */
export function ResultsTable({ output, open, onOpen, columns, onPin, pinLabel }: Props) {
  if (output.kind === 'rows') {
    return (
      <table className="qp-table">
        <caption className="visually-hidden">Aggregation rows</caption>
        <thead>
          <tr>{output.columns.map((c) => <th key={c} scope="col">{c}</th>)}</tr>
        </thead>
        <tbody>
          {output.rows.map((row, i) => (
            <tr key={i}>{output.columns.map((c) => <td key={c}>{cellText(row[c])}</td>)}</tr>
          ))}
        </tbody>
      </table>
    );
  }
  const events = output.events as Ev[];
  const selected = open === undefined ? undefined : events[open];
  const shown = visibleColumns(columns);
  // Closing the event puts focus back on the row it was opened from.
  const close = (index: number) => {
    onOpen(undefined);
    document.getElementById(`qp-time-${index}`)?.focus();
  };
  return (
    <>
      <table className="qp-table">
        <caption className="visually-hidden">Matching events; activate a time to see the event's JSON</caption>
        <thead>
          <tr>
            <th scope="col">time (UTC)</th>
            {shown.map((c) => <th key={c.id} scope="col">{c.label}</th>)}
          </tr>
        </thead>
        <tbody>
          {events.map((e, i) => (
            <tr key={`${e.auditID}-${i}`} className={open === i ? 'qp-open' : undefined}>
              <td>
                <button type="button" id={`qp-time-${i}`} className="qp-link" onClick={() => onOpen(open === i ? undefined : i)} aria-expanded={open === i} aria-controls="qp-json">
                  {cellText(e.requestReceivedTimestamp).replace('T', ' ').replace('Z', '')}
                </button>
              </td>
              {shown.map((c) => <td key={c.id} data-column={c.id}>{cellText(c.get(e))}</td>)}
            </tr>
          ))}
        </tbody>
      </table>
      {selected && <EventJson event={selected} onClose={() => close(open!)} {...(onPin ? { onPin } : {})} {...(pinLabel ? { pinLabel } : {})} />}
    </>
  );
}
