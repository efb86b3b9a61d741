/**
 * The xAPI outbox: the store is the queue. A statement enters with its UUID (assigned here, once,
 * so every resend is the same statement and the LRS keeps one), leaves when the LRS has it, or
 * stays as failed with the LRS's reason when the LRS refuses it for good. A restarted server finds
 * what was not yet delivered here and sends it.
 */
import { randomUUID } from 'node:crypto';
import type { Store } from '../store/database.ts';
import type { XapiStatement } from './statements.ts';

export interface OutboxEntry {
  seq: number;
  id: string;
  /** The statement's JSON, exactly as stored (sent as is, so a resend is byte for byte the same). */
  json: string;
  attempts: number;
}

export interface OutboxFailure {
  id: string;
  createdAt: string;
  attempts: number;
  reason: string;
  /** The verb and object, so an operator sees which statement it is. */
  summary: string;
}

export interface OutboxStatus {
  pending: number;
  failed: number;
  delivered: number;
  oldestPendingAt: string | null;
  lastDeliveredAt: string | null;
  /** Why the oldest pending statement's last attempt did not deliver (the LRS down, a 503...). */
  lastError: string | null;
  failures: OutboxFailure[];
}

export class XapiOutbox {
  readonly #store: Store;
  readonly #clock: () => Date;
  readonly #newId: () => string;

  constructor(store: Store, options: { clock?: () => Date; newId?: () => string } = {}) {
    this.#store = store;
    this.#clock = options.clock ?? (() => new Date());
    this.#newId = options.newId ?? randomUUID;
  }

  /** Stores a statement built around its new id; returns the id. */
  add(build: (id: string) => XapiStatement): string {
    const id = this.#newId();
    this.#store.prepare('INSERT INTO xapi_outbox (statement_id, statement, created_at) VALUES (?, ?, ?)').run(id, JSON.stringify(build(id)), this.#clock().toISOString());
    return id;
  }

  /** The oldest pending statements, in the order they entered. */
  pending(limit: number): OutboxEntry[] {
    const rows = this.#store.prepare("SELECT seq, statement_id, statement, attempts FROM xapi_outbox WHERE state = 'pending' ORDER BY seq LIMIT ?").all(limit) as Array<{ seq: number; statement_id: string; statement: string; attempts: number }>;
    return rows.map((r) => ({ seq: r.seq, id: r.statement_id, json: r.statement, attempts: r.attempts }));
  }

  /** The LRS has these: they leave the outbox. */
  delivered(ids: readonly string[]): void {
    if (ids.length === 0) return;
    const at = this.#clock().toISOString();
    this.#transaction(() => {
      const remove = this.#store.prepare('DELETE FROM xapi_outbox WHERE statement_id = ?');
      let removed = 0;
      for (const id of ids) removed += Number(remove.run(id).changes);
      this.#store.prepare('UPDATE xapi_totals SET delivered = delivered + ?, last_delivered_at = ? WHERE id = 1').run(removed, at);
    });
  }

  /** A try that did not deliver and will be repeated (the LRS down, busy, or too slow). */
  retrying(ids: readonly string[], reason: string): void {
    const at = this.#clock().toISOString();
    this.#transaction(() => {
      const update = this.#store.prepare("UPDATE xapi_outbox SET attempts = attempts + 1, last_attempt_at = ?, last_error = ? WHERE statement_id = ? AND state = 'pending'");
      for (const id of ids) update.run(at, reason, id);
    });
  }

  /** The LRS refused this statement for good: kept with the reason, no longer sent. */
  failed(id: string, reason: string): void {
    this.#store.prepare("UPDATE xapi_outbox SET state = 'failed', attempts = attempts + 1, last_attempt_at = ?, last_error = ? WHERE statement_id = ?").run(this.#clock().toISOString(), reason, id);
  }

  /** Puts every failed statement back in line (after the operator fixed what the LRS refused); returns how many. */
  retryFailed(): number {
    return Number(this.#store.prepare("UPDATE xapi_outbox SET state = 'pending', attempts = 0 WHERE state = 'failed'").run().changes);
  }

  status(failuresShown = 20): OutboxStatus {
    const counts = this.#store.prepare("SELECT SUM(state = 'pending') AS pending, SUM(state = 'failed') AS failed, MIN(CASE WHEN state = 'pending' THEN created_at END) AS oldest FROM xapi_outbox").get() as { pending: number | null; failed: number | null; oldest: string | null };
    const head = this.#store.prepare("SELECT last_error FROM xapi_outbox WHERE state = 'pending' ORDER BY seq LIMIT 1").get() as { last_error: string | null } | undefined;
    const totals = this.#store.prepare('SELECT delivered, last_delivered_at FROM xapi_totals WHERE id = 1').get() as { delivered: number; last_delivered_at: string | null };
    const failures = (this.#store.prepare("SELECT statement_id, statement, created_at, attempts, last_error FROM xapi_outbox WHERE state = 'failed' ORDER BY seq LIMIT ?").all(failuresShown) as Array<{ statement_id: string; statement: string; created_at: string; attempts: number; last_error: string | null }>).map((r) => ({
      id: r.statement_id,
      createdAt: r.created_at,
      attempts: r.attempts,
      reason: r.last_error ?? '',
      summary: summaryOf(r.statement),
    }));
    return {
      pending: counts.pending ?? 0,
      failed: counts.failed ?? 0,
      delivered: totals.delivered,
      oldestPendingAt: counts.oldest,
      lastDeliveredAt: totals.last_delivered_at,
      lastError: head?.last_error ?? null,
      failures,
    };
  }

  #transaction(work: () => void): void {
    this.#store.exec('BEGIN IMMEDIATE');
    try {
      work();
      this.#store.exec('COMMIT');
    } catch (error) {
      this.#store.exec('ROLLBACK');
      throw error;
    }
  }
}

/** "completed http://host/quizzes/q1" from a stored statement. */
export function summaryOf(json: string): string {
  try {
    const statement = JSON.parse(json) as Partial<XapiStatement>;
    return `${statement.verb?.display?.['en-US'] ?? statement.verb?.id ?? '?'} ${statement.object?.id ?? '?'}`;
  } catch {
    return '(unreadable statement)';
  }
}
