/**
 * Gathers what the after-action report is built from: the log (with report-only details), the
 * keystrokes of every terminal session of the drill (asciicast "i" events), the audit events of
 * the attacker's identities and of the responders (each authenticated by a certificate of their
 * own, responders.ts), and the scoreboard. The pure builder in src/lib/drill-report.ts turns them into the report.
 */
import { readFile } from 'node:fs/promises';
import { buildReport, commandsFromKeystrokes, type ReportAuditEvent, type TypedCommand } from '../../lib/drill-report.ts';
import { NIST_PHASE_LABELS, type DrillReport } from '../../lib/drill-view.ts';
import type { AuditEvent } from '../cluster/types.ts';
import { parseAsciicast } from '../terminal/asciicast.ts';
import type { LoadedDrill } from './load.ts';
import type { DrillRepository, DrillRow } from './repository.ts';
import { responderUsername } from './responders.ts';
import type { AttackOutcome, DrillRuntime } from './runtime.ts';
import type { DrillTerminals } from './types.ts';
import { participantView } from './views.ts';

const MAX_AUDIT_EVENTS = 2000;

export interface ReportSources {
  drill: DrillRow;
  loaded: LoadedDrill;
  repo: DrillRepository;
  runtime: DrillRuntime;
  terminals: DrillTerminals | undefined;
  now: number;
}

async function typedCommands(sources: ReportSources): Promise<TypedCommand[]> {
  const { repo, drill, terminals } = sources;
  if (!terminals) return [];
  const people = new Map((await repo.participants(drill.id)).map((p) => [p.id, p]));
  const commands: TypedCommand[] = [];
  for (const session of await repo.terminals(drill.id)) {
    const text = await readFile(terminals.recordingPath(session.sessionId), 'utf8').catch(() => undefined);
    if (!text) continue;
    const { events } = parseAsciicast(text);
    const keystrokes = events.filter((e) => e[1] === 'i').map(([seconds, , data]) => ({ atMs: session.startedAt + seconds * 1000, data }));
    const person = people.get(session.participantId);
    for (const command of commandsFromKeystrokes(keystrokes)) {
      commands.push({ at: new Date(command.atMs).toISOString(), participant: person?.name ?? 'someone', role: person?.role ?? '', text: command.text });
    }
  }
  return commands;
}

/** A participant as the report names them. */
export interface Responder {
  name: string;
  role: string;
}

/**
 * Audit events of the attacker (their usernames from their addresses) and of the responders.
 * A responder is who the API server authenticated (`user.username`, their own certificate),
 * never who a request claimed to act as: an `impersonatedUser` is shown as such, never blamed.
 */
export function relevantAuditEvents(
  events: AuditEvent[],
  attacker: { usernames: string[]; sourceIPs: string[] },
  techniqueByAuditId: Map<string, string>,
  responders: Map<string, Responder>,
): ReportAuditEvent[] {
  const out: ReportAuditEvent[] = [];
  for (const event of events) {
    if (!event.objectRef?.resource) continue; // discovery and health probes say nothing about the incident
    const username = event.user.username ?? '';
    const impersonated = event.impersonatedUser?.username;
    const ip = event.sourceIPs?.[0] ?? null;
    const resource = `${event.objectRef.resource}${event.objectRef.subresource ? `/${event.objectRef.subresource}` : ''}`;
    const base = {
      at: event.requestReceivedTimestamp ?? event.stageTimestamp ?? '', verb: event.verb, resource,
      namespace: event.objectRef.namespace ?? null, name: event.objectRef.name ?? null, status: event.responseStatus?.code ?? null,
      sourceIP: ip, auditId: event.auditID,
      ...(impersonated ? { impersonated: responders.get(impersonated)?.name ?? impersonated } : {}),
    };
    const responder = responders.get(username);
    if (responder) {
      out.push({ ...base, actor: responder.name, role: responder.role, technique: null });
    } else if (attacker.usernames.includes(username) && ip !== null && attacker.sourceIPs.includes(ip)) {
      out.push({ ...base, actor: username, role: 'attacker', technique: techniqueByAuditId.get(event.auditID) ?? null });
    }
    if (out.length >= MAX_AUDIT_EVENTS) break;
  }
  return out;
}

export async function buildDrillReport(sources: ReportSources): Promise<DrillReport> {
  const { drill, loaded, repo, runtime } = sources;
  const log = await repo.log(drill.id);
  const participants = await repo.participants(drill.id);
  const outcomes = log.flatMap((e) => (e.kind === 'attack' ? ((e.detail?.outcomes ?? []) as AttackOutcome[]) : []));
  const attacker = { usernames: new Set<string>(), sourceIPs: new Set<string>() };
  const techniqueByAuditId = new Map<string, string>();
  for (const o of outcomes) {
    attacker.usernames.add(o.username);
    attacker.sourceIPs.add(o.sourceIP);
    if (o.auditId && o.technique) techniqueByAuditId.set(o.auditId, o.technique);
  }
  let audit: ReportAuditEvent[] = [];
  if (drill.clusterName) {
    try {
      const key = await runtime.answerKey(drill.clusterName);
      key.attacker.usernames.forEach((u) => attacker.usernames.add(u));
      key.attacker.sourceIPs.forEach((ip) => attacker.sourceIPs.add(ip));
      for (const step of key.steps) if (step.technique) techniqueByAuditId.set(step.auditId, step.technique);
      const events = await runtime.auditEvents(drill.clusterName);
      audit = relevantAuditEvents(events, { usernames: [...attacker.usernames], sourceIPs: [...attacker.sourceIPs] }, techniqueByAuditId, new Map(participants.map((p) => [responderUsername(p), { name: p.name, role: p.role }])));
    } catch (error) {
      // The cluster may be gone (restart); the report still has everything the database holds.
      console.error(`irlab drill ${drill.id}: no audit events for the report: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const scores = await repo.scores(drill.id);
  const marks = await repo.expectations(drill.id);
  const steps = loaded.lab.lab.steps;
  return buildReport({
    drill: {
      id: drill.id, title: drill.title, scenario: drill.scenario, scenarioTitle: loaded.scenario.scenario.title, createdAt: drill.createdAt,
      startedAt: drill.startedAt, endedAt: drill.endedAt, elapsedMs: drill.clock.elapsedMs, durationMs: drill.durationMs,
      participants: participants.map(participantView), attackerIdentities: [...attacker.usernames].sort(),
    },
    log,
    scoreboard: loaded.drill.scoreboard.map((row) => {
      const score = scores.get(row.step);
      return {
        step: row.step, title: steps.find((s) => s.id === row.step)?.title ?? row.step, phase: NIST_PHASE_LABELS[row.phase] ?? row.phase,
        passedAt: score?.passedAt ?? null, tMs: score?.tMs ?? null, criteria: score?.criteria ?? [],
      };
    }),
    measures: Object.fromEntries(loaded.drill.scoreboard.filter((r) => r.measures).map((r) => [r.step, r.measures!])),
    expectations: loaded.drill.expectations.map((e) => ({ id: e.id, text: e.text, met: marks.get(e.id)?.met ?? false, at: marks.get(e.id)?.at ?? null })),
    commands: await typedCommands(sources),
    audit,
    techniques: [...loaded.scenario.scenario.attack, ...loaded.drill.techniques],
    detectionSteps: loaded.drill.scoreboard.filter((r) => r.phase === 'detection-analysis' || r.measures === 'identify').map((r) => r.step),
    findings: await repo.firstFindings(drill.id),
    generatedAt: new Date(sources.now).toISOString(),
  });
}
