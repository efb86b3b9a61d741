/**
 * The drill tables as typed rows. Every write is one synchronous statement on the shared SQLite
 * store, so a log entry's seq (max + 1 in the same statement) is strictly increasing per drill
 * and an inject leaves `pending` at most once.
 */
import type { LogEntry, LogEntryKind } from '../../lib/drill-view.ts';
import type { Store } from '../store/database.ts';
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
  clusterMessage: String(r.cluster_message), report: r.report as string | null, terminalsEarly: r.terminals_early === 1,
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

export function drillRepository(store: Store) {
  return {
    insertDrill(row: Omit<DrillRow, 'report' | 'terminalsEarly'>): void {
      store
        .prepare(
          `INSERT INTO drills (id, code, title, scenario, roles, duration_ms, facilitator_sha256, state, created_at, started_at, ended_at,
             elapsed_ms, running_since, seed, cluster_name, cluster_status, cluster_message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(row.id, row.code, row.title, row.scenario, JSON.stringify(row.roles), row.durationMs, row.facilitatorSha256, row.state, row.createdAt,
          row.startedAt, row.endedAt, row.clock.elapsedMs, row.clock.runningSince, row.seed, row.clusterName, row.clusterStatus, row.clusterMessage);
    },
    drill(id: string): DrillRow | undefined {
      const row = store.prepare('SELECT * FROM drills WHERE id = ?').get(id) as Raw | undefined;
      return row && drillOf(row);
    },
    drillByCode(code: string): DrillRow | undefined {
      const row = store.prepare('SELECT * FROM drills WHERE code = ?').get(code) as Raw | undefined;
      return row && drillOf(row);
    },
    /** Drills not ended: the ones the scheduler and the scoreboard look after. */
    liveDrills(): DrillRow[] {
      return (store.prepare("SELECT * FROM drills WHERE state != 'ended'").all() as Raw[]).map(drillOf);
    },
    setState(id: string, state: DrillStateName, clock: ClockFields, stamps: { startedAt?: string; endedAt?: string } = {}): void {
      store
        .prepare('UPDATE drills SET state = ?, elapsed_ms = ?, running_since = ?, started_at = COALESCE(?, started_at), ended_at = COALESCE(?, ended_at) WHERE id = ?')
        .run(state, clock.elapsedMs, clock.runningSince, stamps.startedAt ?? null, stamps.endedAt ?? null, id);
    },
    setCluster(id: string, status: ClusterStatus, message: string, name?: string): void {
      store.prepare('UPDATE drills SET cluster_status = ?, cluster_message = ?, cluster_name = COALESCE(?, cluster_name) WHERE id = ?').run(status, message, name ?? null, id);
    },
    setTerminalsEarly(id: string, early: boolean): void {
      store.prepare('UPDATE drills SET terminals_early = ? WHERE id = ?').run(early ? 1 : 0, id);
    },
    setReport(id: string, report: string): void {
      store.prepare('UPDATE drills SET report = ? WHERE id = ?').run(report, id);
    },

    insertParticipant(row: ParticipantRow): void {
      store
        .prepare('INSERT INTO drill_participants (id, drill_id, learner_id, name, role, joined_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(row.id, row.drillId, row.learnerId, row.name, row.role, row.joinedAt);
    },
    participants(drillId: string): ParticipantRow[] {
      return (store.prepare('SELECT * FROM drill_participants WHERE drill_id = ? ORDER BY joined_at, id').all(drillId) as Raw[]).map(participantOf);
    },
    participantOfLearner(drillId: string, learnerId: string): ParticipantRow | undefined {
      const row = store.prepare('SELECT * FROM drill_participants WHERE drill_id = ? AND learner_id = ?').get(drillId, learnerId) as Raw | undefined;
      return row && participantOf(row);
    },
    setTerminal(drillId: string, participantId: string, sessionId: string, startedAt: number): void {
      store.prepare('UPDATE drill_participants SET terminal_session_id = ? WHERE id = ?').run(sessionId, participantId);
      store.prepare('INSERT OR IGNORE INTO drill_terminals (drill_id, participant_id, session_id, started_at) VALUES (?, ?, ?, ?)').run(drillId, participantId, sessionId, startedAt);
    },
    terminals(drillId: string): Array<{ participantId: string; sessionId: string; startedAt: number }> {
      return (store.prepare('SELECT * FROM drill_terminals WHERE drill_id = ? ORDER BY started_at').all(drillId) as Raw[]).map((r) => ({
        participantId: String(r.participant_id), sessionId: String(r.session_id), startedAt: Number(r.started_at),
      }));
    },

    /** Appends to the log with the next seq (computed in the same statement). */
    append(drillId: string, entry: Omit<StoredEntry, 'seq'>): StoredEntry {
      const row = store
        .prepare(
          `INSERT INTO drill_log (drill_id, seq, at, t_ms, kind, participant_id, author_name, author_role, title, body, detail)
           VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM drill_log WHERE drill_id = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
        )
        .get(drillId, drillId, entry.at, Math.round(entry.tMs), entry.kind, entry.author?.participantId ?? null, entry.author?.name ?? null,
          entry.author?.role ?? null, entry.title, entry.body, entry.detail === null ? null : JSON.stringify(entry.detail)) as Raw;
      return entryOf(row);
    },
    log(drillId: string, afterSeq = 0): StoredEntry[] {
      return (store.prepare('SELECT * FROM drill_log WHERE drill_id = ? AND seq > ? ORDER BY seq').all(drillId, afterSeq) as Raw[]).map(entryOf);
    },

    ensureInjects(drillId: string, ids: string[], at: string): void {
      const insert = store.prepare("INSERT OR IGNORE INTO drill_injects (drill_id, inject_id, status, updated_at) VALUES (?, ?, 'pending', ?)");
      for (const id of ids) insert.run(drillId, id, at);
    },
    injectStatuses(drillId: string): Map<string, string> {
      const rows = store.prepare('SELECT inject_id, status FROM drill_injects WHERE drill_id = ?').all(drillId) as Raw[];
      return new Map(rows.map((r) => [String(r.inject_id), String(r.status)]));
    },
    /** pending → firing; false when another path already took it (it never fires twice). */
    claimInject(drillId: string, injectId: string, at: string): boolean {
      return store.prepare("UPDATE drill_injects SET status = 'firing', updated_at = ? WHERE drill_id = ? AND inject_id = ? AND status = 'pending'").run(at, drillId, injectId).changes === 1;
    },
    finishInject(drillId: string, injectId: string, status: 'fired' | 'skipped' | 'failed', at: string): void {
      store.prepare('UPDATE drill_injects SET status = ?, updated_at = ? WHERE drill_id = ? AND inject_id = ?').run(status, at, drillId, injectId);
    },
    /** Injects a crash left in `firing`: they may have acted, so they are never retried. */
    interruptedInjects(drillId: string): string[] {
      return (store.prepare("SELECT inject_id FROM drill_injects WHERE drill_id = ? AND status = 'firing'").all(drillId) as Raw[]).map((r) => String(r.inject_id));
    },

    scores(drillId: string): Map<string, { checkedAt: string; criteria: Array<{ id: string; passed: boolean; message: string }>; passedAt: string | null; tMs: number | null }> {
      const rows = store.prepare('SELECT * FROM drill_scores WHERE drill_id = ?').all(drillId) as Raw[];
      return new Map(rows.map((r) => [String(r.step), {
        checkedAt: String(r.checked_at), criteria: JSON.parse(String(r.criteria)) as Array<{ id: string; passed: boolean; message: string }>,
        passedAt: r.passed_at as string | null, tMs: r.t_ms === null ? null : Number(r.t_ms),
      }]));
    },
    /** Stores the latest evaluation; returns true when this is the step's first green. */
    recordScore(drillId: string, step: string, at: string, tMs: number, criteria: unknown[], passed: boolean): boolean {
      store
        .prepare('INSERT INTO drill_scores (drill_id, step, checked_at, criteria) VALUES (?, ?, ?, ?) ON CONFLICT (drill_id, step) DO UPDATE SET checked_at = excluded.checked_at, criteria = excluded.criteria')
        .run(drillId, step, at, JSON.stringify(criteria));
      if (!passed) return false;
      return store.prepare('UPDATE drill_scores SET passed_at = ?, t_ms = ? WHERE drill_id = ? AND step = ? AND passed_at IS NULL').run(at, Math.round(tMs), drillId, step).changes === 1;
    },

    expectations(drillId: string): Map<string, { met: boolean; at: string }> {
      const rows = store.prepare('SELECT * FROM drill_expectations WHERE drill_id = ?').all(drillId) as Raw[];
      return new Map(rows.map((r) => [String(r.expectation_id), { met: r.met === 1, at: String(r.at) }]));
    },
    markExpectation(drillId: string, id: string, met: boolean, at: string): void {
      store
        .prepare('INSERT INTO drill_expectations (drill_id, expectation_id, met, at) VALUES (?, ?, ?, ?) ON CONFLICT (drill_id, expectation_id) DO UPDATE SET met = excluded.met, at = excluded.at')
        .run(drillId, id, met ? 1 : 0, at);
    },

    answers(drillId: string): Record<string, string> {
      const rows = store.prepare('SELECT question, answer FROM drill_answers WHERE drill_id = ?').all(drillId) as Raw[];
      return Object.fromEntries(rows.map((r) => [String(r.question), String(r.answer)]));
    },
    setAnswer(drillId: string, question: string, answer: string, participantId: string, at: string): void {
      store
        .prepare(
          `INSERT INTO drill_answers (drill_id, question, answer, participant_id, at, first_at) VALUES (?, ?, ?, ?, ?, CASE WHEN ? != '' THEN ? END)
           ON CONFLICT (drill_id, question) DO UPDATE SET answer = excluded.answer, participant_id = excluded.participant_id, at = excluded.at,
             first_at = COALESCE(drill_answers.first_at, excluded.first_at)`,
        )
        .run(drillId, question, answer, participantId, at, answer.trim(), at);
    },
    /** When each question first got a non-empty answer (the team's findings, for time to detect). */
    firstFindings(drillId: string): Array<{ question: string; at: string }> {
      const rows = store.prepare('SELECT question, first_at FROM drill_answers WHERE drill_id = ? AND first_at IS NOT NULL ORDER BY first_at').all(drillId) as Raw[];
      return rows.map((r) => ({ question: String(r.question), at: String(r.first_at) }));
    },
  };
}

export type DrillRepository = ReturnType<typeof drillRepository>;
