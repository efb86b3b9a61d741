/**
 * The drill tables as typed rows, on the async store (SQLite or PostgreSQL). Given the store, a
 * write of several statements runs in a transaction of its own; given a transaction's queries
 * (`drillRepository(tx)` inside `store.transaction`), it joins that one. The writes that decide
 * something are single conditional statements, so two callers racing (two processes too) cannot
 * both win: a log entry's seq comes from the drill's counter (the UPDATE locks the row until the
 * entry commits), an inject leaves `pending` once, a state change applies to the state it read.
 */
import type { LogEntry, LogEntryKind } from '../../lib/drill-view.ts';
import type { SqlQueries, SqlStore } from '../store/sql-store.ts';
import type { ClockFields } from './clock.ts';

export type ClusterStatus = 'preparing' | 'ready' | 'failed' | 'deleted';
export type DrillStateName = 'lobby' | 'running' | 'paused' | 'ended';

export interface DrillRow {
  id: string;
  code: string;
  title: string;
  scenario: string;
  roles: string[];
  durationMs: number;
  facilitatorSha256: string;
  state: DrillStateName;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  clock: ClockFields;
  seed: string;
  clusterName: string | null;
  clusterStatus: ClusterStatus;
  clusterMessage: string;
  report: string | null;
  /** The facilitator opened the terminals before the clock started. */
  terminalsEarly: boolean;
}

export interface ParticipantRow {
  id: string;
  drillId: string;
  learnerId: string;
  name: string;
  role: string;
  joinedAt: string;
  terminalSessionId: string | null;
}

export interface StoredEntry extends LogEntry {
  /** Report-only facts (attack outcomes, control actions); never part of a view. */
  detail: Record<string, unknown> | null;
}

type Raw = Record<string, string | number | null>;

const drillOf = (r: Raw): DrillRow => ({
  id: String(r.id), code: String(r.code), title: String(r.title), scenario: String(r.scenario),
  roles: JSON.parse(String(r.roles)) as string[], durationMs: Number(r.duration_ms), facilitatorSha256: String(r.facilitator_sha256),
  state: r.state as DrillStateName, createdAt: String(r.created_at), startedAt: r.started_at as string | null, endedAt: r.ended_at as string | null,
  clock: { elapsedMs: Number(r.elapsed_ms), runningSince: r.running_since === null ? null : Number(r.running_since) },
  seed: String(r.seed), clusterName: r.cluster_name as string | null, clusterStatus: r.cluster_status as ClusterStatus,
  clusterMessage: String(r.cluster_message), report: r.report as string | null, terminalsEarly: Number(r.terminals_early) === 1,
});

const participantOf = (r: Raw): ParticipantRow => ({
  id: String(r.id), drillId: String(r.drill_id), learnerId: String(r.learner_id), name: String(r.name), role: String(r.role),
  joinedAt: String(r.joined_at), terminalSessionId: r.terminal_session_id as string | null,
});

const entryOf = (r: Raw): StoredEntry => ({
  seq: Number(r.seq), at: String(r.at), tMs: Number(r.t_ms), kind: r.kind as LogEntryKind,
  author: r.author_name === null ? null : { participantId: r.participant_id as string | null, name: String(r.author_name), role: String(r.author_role ?? '') },
  title: String(r.title), body: String(r.body), detail: r.detail === null ? null : (JSON.parse(String(r.detail)) as Record<string, unknown>),
});

/** Runs `work` atomically: in a transaction of its own on the store, or inside the caller's. */
const atomically = <T>(q: SqlQueries | SqlStore, work: (tx: SqlQueries) => Promise<T>): Promise<T> => ('transaction' in q ? q.transaction(work) : work(q));

export type ScoreRow = { checkedAt: string; criteria: Array<{ id: string; passed: boolean; message: string }>; passedAt: string | null; tMs: number | null };

export function drillRepository(q: SqlQueries | SqlStore) {
  return {
    /** false when the id or the join code is taken (the caller draws another code). */
    async insertDrill(row: Omit<DrillRow, 'report' | 'terminalsEarly'>): Promise<boolean> {
      const { changes } = await q.run(
        `INSERT INTO drills (id, code, title, scenario, roles, duration_ms, facilitator_sha256, state, created_at, started_at, ended_at,
           elapsed_ms, running_since, seed, cluster_name, cluster_status, cluster_message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
        [row.id, row.code, row.title, row.scenario, JSON.stringify(row.roles), row.durationMs, row.facilitatorSha256, row.state, row.createdAt,
          row.startedAt, row.endedAt, row.clock.elapsedMs, row.clock.runningSince, row.seed, row.clusterName, row.clusterStatus, row.clusterMessage],
      );
      return changes === 1;
    },
    /** Removes a drill nothing refers to yet (one `create` refused after inserting it). */
    async deleteNewDrill(id: string): Promise<void> {
      await q.run('DELETE FROM drills WHERE id = ?', [id]);
    },
    async drill(id: string): Promise<DrillRow | undefined> {
      const row = await q.get<Raw>('SELECT * FROM drills WHERE id = ?', [id]);
      return row && drillOf(row);
    },
    async drillByCode(code: string): Promise<DrillRow | undefined> {
      const row = await q.get<Raw>('SELECT * FROM drills WHERE code = ?', [code]);
      return row && drillOf(row);
    },
    /** Drills not ended: the ones the scheduler and the scoreboard look after, oldest first. */
    async liveDrills(): Promise<DrillRow[]> {
      return (await q.all<Raw>("SELECT * FROM drills WHERE state != 'ended' ORDER BY created_at, id")).map(drillOf);
    },
    /** Live drills created before this one, or at its time with a smaller id (a total order). */
    async liveDrillsUpTo(drill: Pick<DrillRow, 'id' | 'createdAt'>): Promise<number> {
      const row = await q.get<{ n: number }>(
        "SELECT COUNT(*) AS n FROM drills WHERE state != 'ended' AND (created_at < ? OR (created_at = ? AND id <= ?))",
        [drill.createdAt, drill.createdAt, drill.id],
      );
      return Number(row?.n ?? 0);
    },
    /**
     * Moves the drill from the state and clock it was read with to new ones; false when someone
     * else changed it first (a second pause, an end racing a fast-forward): nothing is written.
     */
    async setState(from: Pick<DrillRow, 'id' | 'state' | 'clock'>, state: DrillStateName, clock: ClockFields, stamps: { startedAt?: string; endedAt?: string } = {}): Promise<boolean> {
      const { changes } = await q.run(
        `UPDATE drills SET state = ?, elapsed_ms = ?, running_since = ?, started_at = COALESCE(?, started_at), ended_at = COALESCE(?, ended_at)
         WHERE id = ? AND state = ? AND elapsed_ms = ? AND COALESCE(running_since, -1) = ?`,
        [state, Math.round(clock.elapsedMs), clock.runningSince === null ? null : Math.round(clock.runningSince), stamps.startedAt ?? null, stamps.endedAt ?? null, from.id, from.state, from.clock.elapsedMs, from.clock.runningSince ?? -1],
      );
      return changes === 1;
    },
    async setCluster(id: string, status: ClusterStatus, message: string, name?: string): Promise<void> {
      await q.run('UPDATE drills SET cluster_status = ?, cluster_message = ?, cluster_name = COALESCE(?, cluster_name) WHERE id = ?', [status, message, name ?? null, id]);
    },
    /** A step of the cluster's preparation; ignored once it is ready or failed. */
    async setProgress(id: string, message: string): Promise<void> {
      await q.run("UPDATE drills SET cluster_message = ? WHERE id = ? AND cluster_status = 'preparing'", [message, id]);
    },
    /** false when the drill has left the lobby or the terminals already were so. */
    async setTerminalsEarly(id: string, early: boolean): Promise<boolean> {
      const value = early ? 1 : 0;
      return (await q.run("UPDATE drills SET terminals_early = ? WHERE id = ? AND state = 'lobby' AND terminals_early != ?", [value, id, value])).changes === 1;
    },
    /** Keeps the first report built: returns the stored one. */
    async setReport(id: string, report: string): Promise<string> {
      await q.run('UPDATE drills SET report = ? WHERE id = ? AND report IS NULL', [report, id]);
      return (await q.get<{ report: string }>('SELECT report FROM drills WHERE id = ?', [id]))?.report ?? report;
    },

    /**
     * Adds the participant unless the learner is in already, someone has the name (whatever its
     * case) or the drill has ended; true when added.
     */
    async insertParticipant(row: ParticipantRow): Promise<boolean> {
      const { changes } = await q.run(
        `INSERT INTO drill_participants (id, drill_id, learner_id, name, role, joined_at)
         SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM drills WHERE id = ? AND state != 'ended')
         ON CONFLICT DO NOTHING`,
        [row.id, row.drillId, row.learnerId, row.name, row.role, row.joinedAt, row.drillId],
      );
      return changes === 1;
    },
    async participants(drillId: string): Promise<ParticipantRow[]> {
      return (await q.all<Raw>('SELECT * FROM drill_participants WHERE drill_id = ? ORDER BY joined_at, id', [drillId])).map(participantOf);
    },
    async participantOfLearner(drillId: string, learnerId: string): Promise<ParticipantRow | undefined> {
      const row = await q.get<Raw>('SELECT * FROM drill_participants WHERE drill_id = ? AND learner_id = ?', [drillId, learnerId]);
      return row && participantOf(row);
    },
    /** The drill a participant's terminal session belongs to (a front routes its socket to the drill's cell). */
    async drillOfTerminal(sessionId: string): Promise<string | undefined> {
      return (await q.get<{ drill_id: string }>('SELECT drill_id FROM drill_terminals WHERE session_id = ?', [sessionId]))?.drill_id;
    },
    async setTerminal(drillId: string, participantId: string, sessionId: string, startedAt: number): Promise<void> {
      await atomically(q, async (tx) => {
        await tx.run('UPDATE drill_participants SET terminal_session_id = ? WHERE id = ?', [sessionId, participantId]);
        await tx.run('INSERT INTO drill_terminals (drill_id, participant_id, session_id, started_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', [drillId, participantId, sessionId, startedAt]);
      });
    },
    async terminals(drillId: string): Promise<Array<{ participantId: string; sessionId: string; startedAt: number }>> {
      return (await q.all<Raw>('SELECT * FROM drill_terminals WHERE drill_id = ? ORDER BY started_at, session_id', [drillId])).map((r) => ({
        participantId: String(r.participant_id), sessionId: String(r.session_id), startedAt: Number(r.started_at),
      }));
    },

    /**
     * Appends to the log with the drill's next seq. The counter's UPDATE locks the drill's row
     * until the entry commits, so seqs are strictly increasing in commit order: a reader that saw
     * seq n has seen every entry before it.
     */
    async append(drillId: string, entry: Omit<StoredEntry, 'seq'>): Promise<StoredEntry> {
      return atomically(q, async (tx) => {
        const counter = await tx.get<{ log_seq: number }>('UPDATE drills SET log_seq = log_seq + 1 WHERE id = ? RETURNING log_seq', [drillId]);
        if (!counter) throw new Error(`no drill ${drillId} to log to`);
        const row = await tx.get<Raw>(
          `INSERT INTO drill_log (drill_id, seq, at, t_ms, kind, participant_id, author_name, author_role, title, body, detail)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
          [drillId, Number(counter.log_seq), entry.at, Math.round(entry.tMs), entry.kind, entry.author?.participantId ?? null, entry.author?.name ?? null,
            entry.author?.role ?? null, entry.title, entry.body, entry.detail === null ? null : JSON.stringify(entry.detail)],
        );
        return entryOf(row!);
      });
    },
    async log(drillId: string, afterSeq = 0): Promise<StoredEntry[]> {
      return (await q.all<Raw>('SELECT * FROM drill_log WHERE drill_id = ? AND seq > ? ORDER BY seq', [drillId, afterSeq])).map(entryOf);
    },

    async ensureInjects(drillId: string, ids: string[], at: string): Promise<void> {
      await atomically(q, async (tx) => {
        for (const id of ids) await tx.run("INSERT INTO drill_injects (drill_id, inject_id, status, updated_at) VALUES (?, ?, 'pending', ?) ON CONFLICT DO NOTHING", [drillId, id, at]);
      });
    },
    async injectStatuses(drillId: string): Promise<Map<string, string>> {
      const rows = await q.all<Raw>('SELECT inject_id, status FROM drill_injects WHERE drill_id = ?', [drillId]);
      return new Map(rows.map((r) => [String(r.inject_id), String(r.status)]));
    },
    /** pending → firing; false when another path already took it (it never fires twice). */
    async claimInject(drillId: string, injectId: string, at: string): Promise<boolean> {
      return (await q.run("UPDATE drill_injects SET status = 'firing', updated_at = ? WHERE drill_id = ? AND inject_id = ? AND status = 'pending'", [at, drillId, injectId])).changes === 1;
    },
    /** firing → its outcome; false when it was not firing (already finished, e.g. marked failed after a restart). */
    async finishInject(drillId: string, injectId: string, status: 'fired' | 'skipped' | 'failed', at: string): Promise<boolean> {
      return (await q.run("UPDATE drill_injects SET status = ?, updated_at = ? WHERE drill_id = ? AND inject_id = ? AND status = 'firing'", [status, at, drillId, injectId])).changes === 1;
    },
    /** Injects a crash left in `firing`: they may have acted, so they are never retried. */
    async interruptedInjects(drillId: string): Promise<string[]> {
      return (await q.all<Raw>("SELECT inject_id FROM drill_injects WHERE drill_id = ? AND status = 'firing' ORDER BY inject_id", [drillId])).map((r) => String(r.inject_id));
    },

    async scores(drillId: string): Promise<Map<string, ScoreRow>> {
      const rows = await q.all<Raw>('SELECT * FROM drill_scores WHERE drill_id = ?', [drillId]);
      return new Map(rows.map((r) => [String(r.step), {
        checkedAt: String(r.checked_at), criteria: JSON.parse(String(r.criteria)) as ScoreRow['criteria'],
        passedAt: r.passed_at as string | null, tMs: r.t_ms === null ? null : Number(r.t_ms),
      }]));
    },
    /** Stores the latest evaluation; returns true when this is the step's first green (once, whoever races). */
    async recordScore(drillId: string, step: string, at: string, tMs: number, criteria: unknown[], passed: boolean): Promise<boolean> {
      return atomically(q, async (tx) => {
        await tx.run(
          'INSERT INTO drill_scores (drill_id, step, checked_at, criteria) VALUES (?, ?, ?, ?) ON CONFLICT (drill_id, step) DO UPDATE SET checked_at = excluded.checked_at, criteria = excluded.criteria',
          [drillId, step, at, JSON.stringify(criteria)],
        );
        if (!passed) return false;
        return (await tx.run('UPDATE drill_scores SET passed_at = ?, t_ms = ? WHERE drill_id = ? AND step = ? AND passed_at IS NULL', [at, Math.round(tMs), drillId, step])).changes === 1;
      });
    },

    async expectations(drillId: string): Promise<Map<string, { met: boolean; at: string }>> {
      const rows = await q.all<Raw>('SELECT * FROM drill_expectations WHERE drill_id = ?', [drillId]);
      return new Map(rows.map((r) => [String(r.expectation_id), { met: Number(r.met) === 1, at: String(r.at) }]));
    },
    async markExpectation(drillId: string, id: string, met: boolean, at: string): Promise<void> {
      await q.run(
        'INSERT INTO drill_expectations (drill_id, expectation_id, met, at) VALUES (?, ?, ?, ?) ON CONFLICT (drill_id, expectation_id) DO UPDATE SET met = excluded.met, at = excluded.at',
        [drillId, id, met ? 1 : 0, at],
      );
    },

    async answers(drillId: string): Promise<Record<string, string>> {
      const rows = await q.all<Raw>('SELECT question, answer FROM drill_answers WHERE drill_id = ?', [drillId]);
      return Object.fromEntries(rows.map((r) => [String(r.question), String(r.answer)]));
    },
    async setAnswer(drillId: string, question: string, answer: string, participantId: string, at: string): Promise<void> {
      await q.run(
        `INSERT INTO drill_answers (drill_id, question, answer, participant_id, at, first_at) VALUES (?, ?, ?, ?, ?, CASE WHEN ? != '' THEN ? END)
         ON CONFLICT (drill_id, question) DO UPDATE SET answer = excluded.answer, participant_id = excluded.participant_id, at = excluded.at,
           first_at = COALESCE(drill_answers.first_at, excluded.first_at)`,
        [drillId, question, answer, participantId, at, answer.trim(), at],
      );
    },
    /** When each question first got a non-empty answer (the team's findings, for time to detect). */
    async firstFindings(drillId: string): Promise<Array<{ question: string; at: string }>> {
      const rows = await q.all<Raw>('SELECT question, first_at FROM drill_answers WHERE drill_id = ? AND first_at IS NOT NULL ORDER BY first_at, question', [drillId]);
      return rows.map((r) => ({ question: String(r.question), at: String(r.first_at) }));
    },
  };
}

export type DrillRepository = ReturnType<typeof drillRepository>;
