/**
 * What the drill service's parts share (service.ts builds it; facilitator.ts takes it): the store
 * and its repository, the injected clock, the event fan-out, reads that refuse with a DrillError,
 * the caller checks and the scheduler.
 */
import { createHash } from 'node:crypto';
import type { DrillView, LogEntry, LogEntryKind } from '../../lib/drill-view.ts';
import { StatusError } from '../../lib/error-status.ts';
import type { SqlStore } from '../store/sql-store.ts';
import type { LoadedDrill } from './load.ts';
import type { DrillRepository, DrillRow, StoredEntry } from './repository.ts';
import type { DrillRuntime } from './runtime.ts';
import type { drillScheduler } from './scheduler.ts';
import type { DrillEvent, DrillTerminals } from './types.ts';
import type { Viewer } from './views.ts';

export class DrillError extends StatusError {
  constructor(message: string, status = 400) {
    super(message, status);
    this.name = 'DrillError';
  }
}

export interface Caller {
  learnerId?: string;
  /** The bearer token, when the request carried one. */
  facilitatorToken?: string;
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export type NewEntry = { kind: LogEntryKind; title: string; body: string; author?: LogEntry['author']; detail?: Record<string, unknown> };

export interface DrillContext {
  store: SqlStore;
  repo: DrillRepository;
  runtime: DrillRuntime;
  terminals: DrillTerminals | undefined;
  now: () => number;
  iso: () => string;
  emit: (id: string, event: DrillEvent) => void;
  /** Appends to the drill's log (its own transaction) and announces the entry once committed. */
  append: (drill: DrillRow, entry: NewEntry) => Promise<StoredEntry>;
  /** The drill, or a 404 DrillError. */
  drillOf: (id: string) => Promise<DrillRow>;
  loadedOf: (scenario: string) => Promise<LoadedDrill>;
  authorize: (drill: DrillRow, caller: Caller) => Promise<Viewer>;
  facilitatorOnly: (drill: DrillRow, caller: Caller) => Promise<void>;
  view: (id: string, caller: Caller) => Promise<DrillView>;
  scheduler: ReturnType<typeof drillScheduler>;
}
