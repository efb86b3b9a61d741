/**
 * The after-action report of a drill, from what the server gathered: the log, the commands typed
 * in the terminals, the relevant audit events and the scoreboard. Pure (no node:*, no DOM), so
 * the server builds it and a page could rebuild or re-render it. Rendering is in
 * drill-report-render.ts.
 */
import { NIST_PHASE_LABELS, type AttackTechnique, type DrillMetrics, type DrillReport, type DrillReportSummary, type ExpectationView, type LogEntry, type ReportEntry, type ScoreRow } from './drill-view.ts';

export interface ReportLogEntry extends LogEntry {
  detail: Record<string, unknown> | null;
}

export interface TypedCommand {
  /** Wall time (ISO) the Enter key was pressed. */
  at: string;
  participant: string;
  role: string;
  text: string;
}

export interface ReportAuditEvent {
  at: string;
  /** The attacker's username or the participant's name. */
  actor: string;
  /** 'attacker' or the participant's drill role. */
  role: string;
  verb: string;
  /** `secrets`, `pods/exec`... */
  resource: string;
  namespace: string | null;
  name: string | null;
  status: number | null;
  sourceIP: string | null;
  technique: string | null;
  /** The API server's audit ID (an attack inject's own requests are shown once, from the log). */
  auditId: string;
  /** Who the request asked to act as (impersonation), when it did: shown, never the actor. */
  impersonated?: string;
}

export interface ReportInput {
  drill: DrillReportSummary;
  log: ReportLogEntry[];
  scoreboard: ScoreRow[];
  /** Which scoreboard step measures which metric. */
  measures: Record<string, 'contain' | 'eradicate' | 'preserve-evidence' | 'identify'>;
  expectations: ExpectationView[];
  commands: TypedCommand[];
  audit: ReportAuditEvent[];
  techniques: AttackTechnique[];
  generatedAt: string;
  /** Scoreboard steps whose first green is a detection (NIST Detection & Analysis). */
  detectionSteps?: string[];
  /** When each investigation question first got an answer from the team (wall time, ISO). */
  findings?: Array<{ at: string; question: string }>;
}

/**
 * Maps wall time to drill time using the clock entries of the log (start, pause, resume,
 * fast-forward, end carry `detail.control` and the drill time they were recorded at). Before the
 * start, drill time is negative: the seeded compromise happened "before T+0".
 */
export function drillClockOf(log: ReportLogEntry[]): (wallIso: string) => number {
  const marks: Array<{ wall: number; t: number; running: boolean }> = [];
  for (const entry of log) {
    const control = entry.detail?.control;
    if (typeof control !== 'string') continue;
    // A fast-forward keeps the clock's state; start and resume run it; pause and end stop it.
    const running = control === 'fast-forward' ? (marks.at(-1)?.running ?? false) : control === 'start' || control === 'resume';
    marks.push({ wall: Date.parse(entry.at), t: entry.tMs, running });
  }
  return (wallIso) => {
    const wall = Date.parse(wallIso);
    let mark: (typeof marks)[number] | undefined;
    for (const m of marks) if (m.wall <= wall) mark = m;
    if (!mark) return marks[0] ? wall - marks[0].wall : 0;
    return mark.t + (mark.running ? wall - mark.wall : 0);
  };
}

const MUTATING = /\b(label|apply|delete|patch|set|rollout|cordon|drain|scale|create|annotate|replace|edit|taint|cp)\b/;

/** NIST phase of a responder's command: reads are analysis, changes are containment/eradication. */
export function phaseOfCommand(text: string): string {
  return MUTATING.test(text) && /\bkubectl\b/.test(text) && !/\bkubectl\s+cp\b.*\s\.\//.test(text)
    ? 'containment-eradication-recovery'
    : 'detection-analysis';
}

/** NIST phase of a responder's API request: reads (and access reviews) are analysis, writes are containment/eradication. */
export function phaseOfRequest(verb: string, resource: string): string {
  return ['get', 'list', 'watch'].includes(verb) || /reviews$/.test(resource) ? 'detection-analysis' : 'containment-eradication-recovery';
}

export function formatDrillTime(ms: number): string {
  const sign = ms < 0 ? '-' : '+';
  const total = Math.round(Math.abs(ms) / 1000);
  return `T${sign}${String(Math.floor(total / 60)).padStart(2, '0')}:${String(total % 60).padStart(2, '0')}`;
}

export function buildReport(input: ReportInput): DrillReport {
  const clock = drillClockOf(input.log);
  const techniques = new Map(input.techniques.map((t) => [t.id, t]));
  const technique = (id: string | null | undefined): AttackTechnique | null => (id ? (techniques.get(id) ?? { id, name: id }) : null);
  const label = (phase: string | null) => (phase ? (NIST_PHASE_LABELS[phase] ?? phase) : null);
  const timeline: ReportEntry[] = [];

  // Entries written in the lobby carry drill time 0; in the report they sit before T+0.
  const started = input.log.find((e) => e.detail?.control === 'start')?.at;
  for (const entry of input.log) {
    const detail = entry.detail ?? {};
    const tMs = started && Date.parse(entry.at) < Date.parse(started) ? clock(entry.at) : entry.tMs;
    const base = { at: entry.at, tMs, kind: entry.kind, title: entry.title, body: entry.body, technique: null, phase: null } as ReportEntry;
    if (entry.kind === 'attack') {
      // One timeline line per request the attacker made, with its technique and outcome.
      const outcomes = (detail.outcomes ?? []) as Array<{ technique: string | null; username: string; verb: string; kind: string; namespace: string | null; name: string | null; status: number; error: string | null; sourceIP: string; note: string | null }>;
      for (const o of outcomes) {
        const target = `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name ?? ''}`.trim();
        const result = o.error ? `failed: ${o.error}` : o.status >= 400 ? `refused (HTTP ${o.status})` : `allowed (HTTP ${o.status})`;
        timeline.push({ ...base, actor: o.username, role: 'attacker', title: `${o.verb} ${target}`, body: `${o.note ? `${o.note}. ` : ''}From ${o.sourceIP}: ${result}.`, technique: technique(o.technique) });
      }
      if (outcomes.length === 0) timeline.push({ ...base, actor: null, role: 'attacker' });
      continue;
    }
    const author = entry.author;
    timeline.push({
      ...base,
      actor: author?.name ?? null,
      role: author?.role ?? null,
      phase: entry.kind === 'check' ? label(String(detail.phase ?? '')) : null,
    });
  }
  for (const command of input.commands) {
    timeline.push({ at: command.at, tMs: clock(command.at), kind: 'command', actor: command.participant, role: command.role, title: command.text, body: '', technique: null, phase: label(phaseOfCommand(command.text)) });
  }
  const fromInjects = new Set(input.log.flatMap((e) => ((e.detail?.outcomes ?? []) as Array<{ auditId: string | null }>).map((o) => o.auditId)).filter(Boolean));
  for (const event of input.audit) {
    if (fromInjects.has(event.auditId)) continue;
    const target = `${event.resource}${event.namespace ? ` ${event.namespace}/` : ' '}${event.name ?? ''}`.trim();
    const attacker = event.role === 'attacker';
    timeline.push({
      at: event.at, tMs: clock(event.at), kind: 'audit', actor: event.actor, role: event.role, title: `${event.verb} ${target}`,
      body: `${event.impersonated ? `acting as ${event.impersonated} (impersonation), ` : ''}${event.sourceIP ? `from ${event.sourceIP}, ` : ''}HTTP ${event.status ?? '?'}`,
      technique: attacker ? technique(event.technique) : null, phase: attacker ? null : label(phaseOfRequest(event.verb, event.resource)),
    });
  }
  timeline.sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.tMs - b.tMs);

  const firstGreen = (measure: string) => {
    const step = Object.entries(input.measures).find(([, m]) => m === measure)?.[0];
    return input.scoreboard.find((row) => row.step === step)?.tMs ?? null;
  };
  // Detected means the team knew something: a detection step of the scoreboard went green, or
  // the team wrote down a finding. Typing `ls` or naming an incident commander is not detection.
  const detections = new Set(input.detectionSteps ?? []);
  const detected = [
    ...input.scoreboard.filter((row) => detections.has(row.step) && row.tMs !== null).map((row) => row.tMs!),
    ...(input.findings ?? []).map((f) => clock(f.at)),
  ].filter((t) => t >= 0);
  const attacks = timeline.filter((e) => e.role === 'attacker' && e.kind === 'attack' && e.tMs >= 0);
  const metrics: DrillMetrics = {
    timeToDetectMs: detected.length ? Math.min(...detected) : null,
    timeToContainMs: firstGreen('contain'),
    timeToEradicateMs: firstGreen('eradicate'),
    stepFirstGreenMs: Object.fromEntries(input.scoreboard.map((row) => [row.step, row.tMs])),
    commandsTyped: input.commands.length,
    notes: input.log.filter((e) => e.kind === 'note').length,
    decisions: input.log.filter((e) => e.kind === 'decision').length,
    injectsFired: input.log.filter((e) => e.kind === 'inject').length,
    attacksLanded: attacks.filter((e) => /allowed/.test(e.body)).length,
    attacksSkipped: input.log.filter((e) => e.kind === 'attack-skipped').length,
    expectationsMet: input.expectations.filter((e) => e.met).length,
    expectationsTotal: input.expectations.length,
  };

  const wentWell: string[] = [];
  const toImprove: string[] = [];
  for (const row of input.scoreboard) {
    if (row.tMs !== null) wentWell.push(`${row.title}: done at ${formatDrillTime(row.tMs)} (${row.phase}).`);
    else {
      const failing = row.criteria.filter((c) => !c.passed).map((c) => c.message);
      toImprove.push(`${row.title} never passed${failing.length ? `: ${failing.join('; ')}` : ' (it was never checked)'}.`);
    }
  }
  for (const entry of input.log.filter((e) => e.kind === 'attack-skipped')) wentWell.push(`The attacker's scripted move was stopped at ${formatDrillTime(entry.tMs)}: ${entry.body}`);
  if (metrics.attacksLanded > 0) {
    const used = [...new Set(attacks.filter((e) => /allowed/.test(e.body)).map((e) => e.technique?.id).filter(Boolean))];
    toImprove.push(`The attacker's scripted actions landed ${metrics.attacksLanded} time(s) during the drill${used.length ? ` (${used.join(', ')})` : ''}.`);
  }
  for (const e of input.expectations) (e.met ? wentWell : toImprove).push(`${e.met ? 'Met' : 'Not met'}: ${e.text}`);
  if (metrics.timeToDetectMs === null) toImprove.push('The incident was never detected during the drill: no detection step passed and the team recorded no finding.');

  return { drill: input.drill, metrics, scoreboard: input.scoreboard, expectations: input.expectations, timeline, wentWell, toImprove, generatedAt: input.generatedAt };
}

/**
 * Commands from a terminal's recorded keystrokes (asciicast "i" events): Enter ends a line,
 * backspace and Ctrl-U edit it, Ctrl-C drops it, escape sequences (arrows) are ignored. Shell
 * completion and history recall are not visible in keystrokes, so those lines show what was typed.
 */
export function commandsFromKeystrokes(events: Array<{ atMs: number; data: string }>): Array<{ atMs: number; text: string }> {
  const commands: Array<{ atMs: number; text: string }> = [];
  let line = '';
  for (const { atMs, data } of events) {
    for (let i = 0; i < data.length; i++) {
      const ch = data[i]!;
      if (ch === '\x1b') {
        // CSI / SS3 sequences: skip to the final byte.
        if (data[i + 1] === '[' || data[i + 1] === 'O') {
          i += 2;
          while (i < data.length && !/[@-~]/.test(data[i]!)) i++;
        } else i++;
      } else if (ch === '\r' || ch === '\n') {
        if (line.trim()) commands.push({ atMs, text: line.trim() });
        line = '';
      } else if (ch === '\x7f' || ch === '\b') line = line.slice(0, -1);
      else if (ch === '\x15' || ch === '\x03') line = '';
      else if (ch === '\x17') line = line.replace(/\S+\s*$/, '');
      else if (ch >= ' ') line += ch;
    }
  }
  return commands;
}
