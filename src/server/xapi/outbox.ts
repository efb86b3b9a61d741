/**
 * The xAPI outbox: the store is the queue. A statement enters with its UUID (assigned here, once,
 * so every resend is the same statement and the LRS keeps one), leaves when the LRS has it, or
 * stays as failed with the LRS's reason when the LRS refuses it for good. A restarted server finds
 * what was not yet delivered here and sends it.
 *
 * Senders claim before they send: one conditional UPDATE ... RETURNING sets `claimed_until` (a
 * lease) on rows nobody holds, so two senders polling at once (two processes on PostgreSQL)
 * never send one row twice; on PostgreSQL the second UPDATE waits for the first's row locks, then
 * re-checks its WHERE on the claimed rows and skips them. A sender that dies mid-send leaves its
 * lease to run out, after which any sender takes the rows again (the same statement ids: the LRS
 * keeps one).
 */
import { randomUUID } from 'node:crypto';
import type { SqlStore } from '../store/sql-store.ts';
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

/** `?, ?, ?` for a list. */
const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ');

export class XapiOutbox {
  readonly #store: SqlStore;
  readonly #clock: () => Date;
  readonly #newId: () => string;

  constructor(store: SqlStore, options: { clock?: () => Date; newId?: () => string } = {}) {
    this.#store = store;
    this.#clock = options.clock ?? (() => new Date());
    this.#newId = options.newId ?? randomUUID;
  }

  /** Stores a statement built around its new id; resolves with the id once the row is written. */
  async add(build: (id: string) => XapiStatement): Promise<string> {
    const id = this.#newId();
    await this.#store.run('INSERT INTO xapi_outbox (statement_id, statement, created_at) VALUES (?, ?, ?)', [id, JSON.stringify(build(id)), this.#clock().toISOString()]);
    return id;
  }

  /**
   * Claims the oldest pending statements nobody holds for `leaseMs` and returns them in the order
   * they entered; rows another sender claimed are not returned (see the header).
   */
  async claim(limit: number, leaseMs: number): Promise<OutboxEntry[]> {
    const now = this.#clock();
    const at = now.toISOString();
    const until = new Date(now.getTime() + leaseMs).toISOString();
    const free = "state = 'pending' AND (claimed_until IS NULL OR claimed_until <= ?)";
    const rows = await this.#store.all<{ seq: number; statement_id: string; statement: string; attempts: number }>(
      `UPDATE xapi_outbox SET claimed_until = ? WHERE ${free} AND seq IN (SELECT seq FROM xapi_outbox WHERE ${free} ORDER BY seq LIMIT ?) RETURNING seq, statement_id, statement, attempts`,
      [until, at, at, limit],
    );
    return rows.map((r) => ({ seq: r.seq, id: r.statement_id, json: r.statement, attempts: r.attempts })).sort((a, b) => a.seq - b.seq);
  }

  /** How long until the first claim another sender holds runs out (ms); undefined when none is held. */
  async heldForMs(): Promise<number | undefined> {
    const now = this.#clock();
    const held = await this.#store.get<{ until: string | null }>("SELECT MIN(claimed_until) AS until FROM xapi_outbox WHERE state = 'pending' AND claimed_until > ?", [now.toISOString()]);
    return held?.until ? Math.max(1, Date.parse(held.until) - now.getTime()) : undefined;
  }

  /** The oldest pending statements, in the order they entered (claimed or not; the operator's view). */
  async pending(limit: number): Promise<OutboxEntry[]> {
    const rows = await this.#store.all<{ seq: number; statement_id: string; statement: string; attempts: number }>("SELECT seq, statement_id, statement, attempts FROM xapi_outbox WHERE state = 'pending' ORDER BY seq LIMIT ?", [limit]);
    return rows.map((r) => ({ seq: r.seq, id: r.statement_id, json: r.statement, attempts: r.attempts }));
  }

  /** The LRS has these: they leave the outbox. */
  async delivered(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const at = this.#clock().toISOString();
    await this.#store.transaction(async (tx) => {
      const removed = (await tx.run(`DELETE FROM xapi_outbox WHERE statement_id IN (${marks(ids.length)})`, ids)).changes;
      await tx.run('UPDATE xapi_totals SET delivered = delivered + ?, last_delivered_at = ? WHERE id = 1', [removed, at]);
    });
  }

  /** A try that did not deliver and will be repeated (the LRS down, busy, or too slow): the claim ends. */
  async retrying(ids: readonly string[], reason: string): Promise<void> {
    if (ids.length === 0) return;
    await this.#store.run(`UPDATE xapi_outbox SET attempts = attempts + 1, last_attempt_at = ?, last_error = ?, claimed_until = NULL WHERE state = 'pending' AND statement_id IN (${marks(ids.length)})`, [
      this.#clock().toISOString(),
      reason,
      ...ids,
    ]);
  }

  /** Gives claimed statements back untried (the sender stops): another sender may take them at once. */
  async release(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.#store.run(`UPDATE xapi_outbox SET claimed_until = NULL WHERE statement_id IN (${marks(ids.length)})`, ids);
  }

  /** The LRS refused this statement for good: kept with the reason, no longer sent. */
  async failed(id: string, reason: string): Promise<void> {
    await this.#store.run("UPDATE xapi_outbox SET state = 'failed', attempts = attempts + 1, last_attempt_at = ?, last_error = ?, claimed_until = NULL WHERE statement_id = ?", [this.#clock().toISOString(), reason, id]);
  }

  /** Puts every failed statement back in line (after the operator fixed what the LRS refused); returns how many. */
  async retryFailed(): Promise<number> {
    return (await this.#store.run("UPDATE xapi_outbox SET state = 'pending', attempts = 0 WHERE state = 'failed'")).changes;
  }

  async status(failuresShown = 20): Promise<OutboxStatus> {
    const counts = await this.#store.get<{ pending: number | null; failed: number | null; oldest: string | null }>(
      "SELECT SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END) AS pending, SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END) AS failed, MIN(CASE WHEN state = 'pending' THEN created_at END) AS oldest FROM xapi_outbox",
    );
    const head = await this.#store.get<{ last_error: string | null }>("SELECT last_error FROM xapi_outbox WHERE state = 'pending' ORDER BY seq LIMIT 1");
    const totals = (await this.#store.get<{ delivered: number; last_delivered_at: string | null }>('SELECT delivered, last_delivered_at FROM xapi_totals WHERE id = 1'))!;
    const rows = await this.#store.all<{ statement_id: string; statement: string; created_at: string; attempts: number; last_error: string | null }>(
      "SELECT statement_id, statement, created_at, attempts, last_error FROM xapi_outbox WHERE state = 'failed' ORDER BY seq LIMIT ?",
      [failuresShown],
    );
    return {
      pending: counts?.pending ?? 0,
      failed: counts?.failed ?? 0,
      delivered: totals.delivered,
      oldestPendingAt: counts?.oldest ?? null,
      lastDeliveredAt: totals.last_delivered_at,
      lastError: head?.last_error ?? null,
      failures: rows.map((r) => ({ id: r.statement_id, createdAt: r.created_at, attempts: r.attempts, reason: r.last_error ?? '', summary: summaryOf(r.statement) })),
    };
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
