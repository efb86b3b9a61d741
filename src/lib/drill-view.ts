/**
 * What the browser receives about a tabletop drill (issue #11) and the messages of its HTTP API
 * and WebSocket. Shared by the server (which builds these) and the UI (which renders them); the
 * contract is docs/drills.md. Fields may be added, never renamed.
 *
 * Nothing here carries an answer key, an unfired inject's body, condition or attack steps, or the
 * facilitator token: the server builds a view per caller and only the facilitator's view has
 * `upcomingInjects` (titles and times only).
 */
import type { LabEngineView } from './lab-engine.ts';

export type DrillState = 'lobby' | 'running' | 'paused' | 'ended';

/** A reading of the drill clock; the browser extrapolates from `at` while `running`. */
export interface DrillClock {
  /** Drill time elapsed when the server took this reading (pauses excluded, fast-forwards added). */
  elapsedMs: number;
  /** The planned length of the drill. */
  durationMs: number;
  /** True while the drill is `running` (the clock advances with wall time). */
  running: boolean;
  /** Server wall time (ISO) of this reading. */
  at: string;
}

/** `deleted`: the drill ended and its cluster was deleted, as every used cluster is. */
export type DrillClusterStatus = 'preparing' | 'ready' | 'failed' | 'deleted';

export interface DrillClusterView {
  status: DrillClusterStatus;
  /** Progress while preparing (e.g. "seeding: 4/9 requests"), the reason when failed or deleted. */
  message: string;
}

/** Whether participants may open their terminals and query the audit log now. */
export interface DrillTerminalsView {
  /** False before the clock starts, unless the facilitator opened them early. */
  open: boolean;
  /** The facilitator opened them before the start. */
  openedEarly: boolean;
  /** Why they are locked ('' when open), in words for the room. */
  reason: string;
}

export interface ParticipantView {
  id: string;
  name: string;
  role: string;
  joinedAt: string;
  /** The participant's terminal session on the drill cluster, once they opened one. */
  terminalSessionId: string | null;
}

export type LogEntryKind =
  | 'note'
  | 'decision'
  | 'inject'
  | 'attack'
  | 'attack-skipped'
  | 'check'
  | 'expectation'
  | 'system';

export interface LogAuthor {
  /** Null when the facilitator wrote the entry. */
  participantId: string | null;
  name: string;
  role: string;
}

export interface LogEntry {
  /** Per drill, strictly increasing from 1, no gaps. */
  seq: number;
  /** Wall time (ISO) the entry was recorded. */
  at: string;
  /** Drill clock when the entry was recorded. */
  tMs: number;
  kind: LogEntryKind;
  /** Who wrote it; null for entries the drill itself records (injects, checks, system). */
  author: LogAuthor | null;
  title: string;
  /** Markdown source (the UI renders it as text or sanitised Markdown). */
  body: string;
  /**
   * A scripted inject's body as HTML, rendered on the server from the drill file (author content,
   * like a lab step's text) when it fired. Absent for everything participants or the facilitator wrote.
   */
  html?: string;
}

export interface ScoreCriterionView {
  id: string;
  passed: boolean;
  message: string;
}

export interface ScoreRow {
  /** The lab step id (e.g. `contain`). */
  step: string;
  title: string;
  /** NIST SP 800-61 phase of this step (e.g. "Containment, Eradication & Recovery"). */
  phase: string;
  /** When the step's checks first all passed (ISO), null until then. */
  passedAt: string | null;
  /** Drill clock at first green. */
  tMs: number | null;
  /**
   * The latest evaluation, per criterion; empty before the first evaluation. While the drill
   * runs, `message` is '' (the checks' messages are built from the answer key); after it ends,
   * and in the report, they say what was missing.
   */
  criteria: ScoreCriterionView[];
}

export interface ExpectationView {
  id: string;
  text: string;
  met: boolean;
  /** When the facilitator last marked it (ISO). */
  at: string | null;
}

export interface UpcomingInjectView {
  id: string;
  title: string;
  /** Drill clock time the inject is scheduled for. */
  atMs: number;
  /** True when the inject has an `unless` condition. */
  conditional: boolean;
  /** True when the inject acts on the cluster as the attacker. */
  attack?: boolean;
}

export interface DrillQuestionView {
  id: string;
  /** The lab step the question belongs to. */
  step: string;
  prompt: string;
  placeholder?: string;
  /** The team's latest answer ('' when none). */
  answer: string;
}

export interface DrillView {
  id: string;
  /** Join code participants type (short, upper-case). */
  code: string;
  title: string;
  /** Scenario slug. */
  scenario: string;
  state: DrillState;
  roles: string[];
  clock: DrillClock;
  cluster: DrillClusterView;
  /** Are the terminals (and the Audit log tab) open to participants? */
  terminals: DrillTerminalsView;
  participants: ParticipantView[];
  /** The caller as a participant; null for the facilitator or an outsider. */
  you: ParticipantView | null;
  /** True when the caller authenticated with the facilitator token. */
  facilitator: boolean;
  /** Full timeline visible to the caller, in seq order. */
  log: LogEntry[];
  scoreboard: ScoreRow[];
  expectations: ExpectationView[];
  /**
   * The investigation questions of the scoreboard's lab steps and the team's latest answer to
   * each (`POST /api/drills/:id/answers`); the investigation step is graded on these.
   */
  questions: DrillQuestionView[];
  /** Facilitator only: scripted injects not yet fired or skipped, in time order. */
  upcomingInjects?: UpcomingInjectView[];
  /** ISO times of the state changes, null until they happen. */
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
}

/** `GET /api/drills/scenarios`: a scenario that ships a drill.yaml. */
export interface DrillScenarioSummary {
  slug: string;
  title: string;
  summary: string;
  defaultDurationMinutes: number;
  roles: string[];
  /** The engine the drill runs on here; `unavailable` when its lab needs another (node-escape: kind). */
  engine: LabEngineView;
}

export interface CreateDrillRequest {
  scenario: string;
  title?: string;
  durationMinutes: number;
  roles: string[];
}

export interface CreateDrillResponse {
  drill: DrillView;
  /** Shown once; the server keeps only its SHA-256. */
  facilitatorToken: string;
}

export interface JoinDrillRequest {
  code: string;
  name: string;
  role: string;
}

export interface JoinDrillResponse {
  drill: DrillView;
  participant: ParticipantView;
}

export interface PostLogRequest {
  kind: 'note' | 'decision';
  text: string;
}

export type DrillControlRequest =
  | { action: 'start' | 'pause' | 'resume' | 'end' | 'open-terminals' | 'lock-terminals' }
  | { action: 'fast-forward'; minutes: number };

export type ManualInjectRequest = { title: string; body: string } | { injectId: string };

/** `POST /api/drills/:id/answers` (participants): answers by question id; the latest wins. */
export interface DrillAnswersRequest {
  answers: Record<string, string>;
}

export interface MarkExpectationRequest {
  met: boolean;
}

export interface DrillTerminalResponse {
  sessionId: string;
}

// --- WebSocket /ws/drills/:id ---

export type DrillClientMessage =
  | { type: 'auth'; token: string }
  | { type: 'hello'; afterSeq: number };

export type DrillServerMessage =
  | { type: 'snapshot'; drill: DrillView }
  | { type: 'entry'; entry: LogEntry }
  | { type: 'state'; drill: DrillView }
  | { type: 'error'; error: string };

// --- After-action report ---

export type ReportEntryKind =
  | LogEntryKind
  /** A command a participant typed in their drill terminal. */
  | 'command'
  /** A request from the cluster's audit log (attacker or responder). */
  | 'audit';

export interface AttackTechnique {
  /** MITRE ATT&CK id, e.g. T1552.007. */
  id: string;
  name: string;
}

export interface ReportEntry {
  at: string;
  /** Drill clock; negative for events before the drill started (e.g. the seeded compromise). */
  tMs: number;
  kind: ReportEntryKind;
  /** Who did it: a participant's name, the attacker identity, "facilitator" or null (the drill). */
  actor: string | null;
  /** The actor's drill role or "attacker". */
  role: string | null;
  title: string;
  body: string;
  /** ATT&CK technique for attacker actions. */
  technique: AttackTechnique | null;
  /** NIST SP 800-61 phase for responses (commands, responder audit events, check greens). */
  phase: string | null;
}

export interface DrillMetrics {
  /** Drill start to the first green of a detection step (Detection & Analysis) or the team's first recorded finding, whichever came first. */
  timeToDetectMs: number | null;
  /** Drill start to the first green of the lab's containment step. */
  timeToContainMs: number | null;
  /** Drill start to the first green of the lab's eradication step. */
  timeToEradicateMs: number | null;
  /** Drill start to first green, per lab step id. */
  stepFirstGreenMs: Record<string, number | null>;
  commandsTyped: number;
  notes: number;
  decisions: number;
  injectsFired: number;
  attacksLanded: number;
  attacksSkipped: number;
  expectationsMet: number;
  expectationsTotal: number;
}

export interface DrillReportSummary {
  id: string;
  title: string;
  scenario: string;
  scenarioTitle: string;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  /** Drill clock at the end. */
  elapsedMs: number;
  durationMs: number;
  participants: ParticipantView[];
  /** The identities the attacker used (named only in the report, after the drill). */
  attackerIdentities: string[];
}

export interface DrillReport {
  drill: DrillReportSummary;
  metrics: DrillMetrics;
  scoreboard: ScoreRow[];
  expectations: ExpectationView[];
  /** Merged and sorted by time. */
  timeline: ReportEntry[];
  wentWell: string[];
  toImprove: string[];
  generatedAt: string;
}

/** NIST SP 800-61 (rev. 2) phases by the ids drill.yaml uses, as ScoreRow.phase and reports show them. */
export const NIST_PHASE_LABELS: Record<string, string> = {
  preparation: 'Preparation',
  'detection-analysis': 'Detection & Analysis',
  'containment-eradication-recovery': 'Containment, Eradication & Recovery',
  'post-incident': 'Post-Incident Activity',
};
