/**
 * xAPI for the composition root: a listener of the learning events whose promise resolves once
 * the event's statement is in the outbox (the emitter awaits it, so nothing is lost if the process
 * dies a moment later), and the sender that drains the outbox into the LRS in the background. Built only when IRLAB_XAPI_ENDPOINT is set.
 */
import type { LearningEvent } from '../learners/learning-events.ts';
import type { SqlStore } from '../store/sql-store.ts';
import { XapiOutbox } from './outbox.ts';
import { XapiSender, type LrsConfig, type SenderTimers } from './sender.ts';
import { statementOf } from './statements.ts';

export interface XapiServiceOptions {
  store: SqlStore;
  publicUrl: string;
  lrs: LrsConfig;
  clock?: () => Date;
  newId?: () => string;
  fetch?: typeof globalThis.fetch;
  timers?: SenderTimers;
  random?: () => number;
  log?: (line: string) => void;
  error?: (line: string) => void;
}

export interface XapiService {
  outbox: XapiOutbox;
  sender: XapiSender;
  /** Subscribe this to `services.learningEvents`. */
  listener(event: LearningEvent): Promise<void>;
  /** Starts sending (first what an earlier process left in the outbox). */
  start(): void;
  close(): Promise<void>;
}

export function xapiService(options: XapiServiceOptions): XapiService {
  const { store, publicUrl } = options;
  const outbox = new XapiOutbox(store, { ...(options.clock ? { clock: options.clock } : {}), ...(options.newId ? { newId: options.newId } : {}) });
  const sender = new XapiSender({
    outbox,
    lrs: options.lrs,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.timers ? { timers: options.timers } : {}),
    ...(options.random ? { random: options.random } : {}),
    ...(options.log ? { log: options.log } : {}),
    ...(options.error ? { error: options.error } : {}),
  });
  return {
    outbox,
    sender,
    async listener(event) {
      const row = await store.get<{ display_name: string | null }>('SELECT display_name FROM learners WHERE id = ?', [event.learnerId]);
      await outbox.add((id) => statementOf(event, { id, publicUrl, actor: { learnerId: event.learnerId, displayName: row?.display_name ?? undefined } }));
      sender.wake();
    },
    start: () => sender.start(),
    close: () => sender.close(),
  };
}
