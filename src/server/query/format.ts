/** Printing query output for people (table) and programs (json lines, csv). */
import type { QueryOutput, Row } from '../../lib/query/pipeline.ts';

export type OutputFormat = 'table' | 'json' | 'csv';

/** The columns shown for an event in table and csv output (json prints the whole event). */
// Audit events are free-form JSON; the columns read them loosely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;

export const EVENT_COLUMNS: { name: string; get: (e: Loose) => unknown }[] = [
  { name: 'time', get: (e) => e.requestReceivedTimestamp },
  { name: 'user', get: (e) => e.user?.username },
  { name: 'verb', get: (e) => e.verb },
  { name: 'resource', get: (e) => (e.objectRef ? [e.objectRef.resource, e.objectRef.subresource].filter(Boolean).join('/') : e.requestURI) },
  { name: 'namespace', get: (e) => e.objectRef?.namespace },
  { name: 'name', get: (e) => e.objectRef?.name },
  { name: 'code', get: (e) => e.responseStatus?.code },
  { name: 'sourceIPs', get: (e) => (Array.isArray(e.sourceIPs) ? e.sourceIPs.join(' ') : e.sourceIPs) },
  { name: 'auditID', get: (e) => e.auditID },
];

function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function csvCell(value: unknown): string {
  const text = cell(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function eventCells(event: unknown): string[] {
  return EVENT_COLUMNS.map((c) => cell(c.get(event as Record<string, unknown>)));
}

export function csvHeader(output: QueryOutput | 'events'): string {
  const names = output === 'events' || output.kind === 'events' ? EVENT_COLUMNS.map((c) => c.name) : output.columns;
  return names.map(csvCell).join(',');
}

export function csvEventLine(event: unknown): string {
  return eventCells(event).map(csvCell).join(',');
}

export function csvRowLine(columns: string[], row: Row): string {
  return columns.map((c) => csvCell(row[c])).join(',');
}

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length))));
  const fit = (text: string, width: number) => (text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width));
  return [headers, ...rows].map((r) => r.map((c, i) => fit(c ?? '', widths[i]!)).join('  ').trimEnd()).join('\n');
}

export function formatTable(output: QueryOutput): string {
  if (output.kind === 'events') return table(EVENT_COLUMNS.map((c) => c.name), output.events.map(eventCells));
  return table(output.columns, output.rows.map((row) => output.columns.map((c) => cell(row[c]))));
}
