import { eventTarget } from './event-summary.ts';

// Audit events are free-form JSON; the columns read them loosely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Ev = Record<string, any>;

export interface Column {
  id: string;
  label: string;
  get: (event: Ev) => unknown;
}

/** Every column the events table can show; the time column is always there (it opens the event). */
export const COLUMNS: Column[] = [
  { id: 'user', label: 'user', get: (e) => e.user?.username },
  { id: 'verb', label: 'verb', get: (e) => e.verb },
  { id: 'resource', label: 'resource', get: (e) => (e.objectRef ? [e.objectRef.resource, e.objectRef.subresource].filter(Boolean).join('/') : e.requestURI) },
  { id: 'namespace', label: 'namespace', get: (e) => e.objectRef?.namespace },
  { id: 'name', label: 'name', get: (e) => e.objectRef?.name },
  { id: 'code', label: 'code', get: (e) => e.responseStatus?.code },
  { id: 'sourceIPs', label: 'sourceIPs', get: (e) => (Array.isArray(e.sourceIPs) ? e.sourceIPs.join(', ') : '') },
  { id: 'requestURI', label: 'requestURI', get: (e) => e.requestURI },
  { id: 'userAgent', label: 'userAgent', get: (e) => e.userAgent },
  { id: 'impersonated', label: 'impersonated', get: (e) => e.impersonatedUser?.username },
  { id: 'target', label: 'target', get: eventTarget },
  { id: 'auditID', label: 'auditID', get: (e) => e.auditID },
];

export const DEFAULT_COLUMNS = ['user', 'verb', 'resource', 'namespace', 'name', 'code', 'sourceIPs'];

/** The chosen columns in table order; unknown ids (an older page's) are dropped. */
export const visibleColumns = (chosen: readonly string[]): Column[] => COLUMNS.filter((c) => chosen.includes(c.id));

export const cellText = (v: unknown) => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));
