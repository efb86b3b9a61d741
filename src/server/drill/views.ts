/**
 * DrillView per caller. Participants and the facilitator see the same log; only the facilitator
 * sees upcoming injects, and then only their ids, titles and times (never bodies, conditions or
 * attack steps). Nothing here reads the answer key, and the checks' messages (which do) are
 * withheld until the drill has ended.
 */
import { NIST_PHASE_LABELS, type DrillView, type LogEntry, type ParticipantView } from '../../lib/drill-view.ts';
import { offsetMs } from '../../schemas/drill.ts';
import { elapsedAt } from './clock.ts';
import type { LoadedDrill } from './load.ts';
import type { DrillRepository, DrillRow, ParticipantRow, StoredEntry } from './repository.ts';

export function participantView(row: ParticipantRow): ParticipantView {
  return { id: row.id, name: row.name, role: row.role, joinedAt: row.joinedAt, terminalSessionId: row.terminalSessionId };
}

export function entryView(entry: StoredEntry): LogEntry {
  const { detail, ...visible } = entry;
  // A scripted inject's body rendered from the drill file (author content) when it fired.
  return typeof detail?.html === 'string' ? { ...visible, html: detail.html } : visible;
}

/**
 * Why the drill's terminals (and its audit log) are closed to participants now, or null when
 * open: before the clock starts unless the facilitator opened them early.
 */
export function terminalsLock(drill: Pick<DrillRow, 'state' | 'terminalsEarly'>): string | null {
  if (drill.state === 'lobby' && !drill.terminalsEarly) return 'the terminals open when the facilitator starts the drill clock (or opens them early): wait for the start';
  return null;
}

export interface Viewer {
  facilitator: boolean;
  participant: ParticipantRow | null;
}

export async function buildView(repo: DrillRepository, drill: DrillRow, loaded: LoadedDrill | undefined, viewer: Viewer, nowMs: number): Promise<DrillView> {
  const [rows, scores, marks, answers, log] = await Promise.all([repo.participants(drill.id), repo.scores(drill.id), repo.expectations(drill.id), repo.answers(drill.id), repo.log(drill.id)]);
  const participants = rows.map(participantView);
  const steps = loaded?.lab.lab.steps ?? [];
  const view: DrillView = {
    id: drill.id,
    code: drill.code,
    title: drill.title,
    scenario: drill.scenario,
    state: drill.state,
    roles: drill.roles,
    clock: { elapsedMs: elapsedAt(drill.clock, nowMs), durationMs: drill.durationMs, running: drill.state === 'running', at: new Date(nowMs).toISOString() },
    cluster: { status: drill.clusterStatus, message: drill.clusterMessage },
    terminals: { open: terminalsLock(drill) === null, openedEarly: drill.terminalsEarly, reason: terminalsLock(drill) ?? '' },
    participants,
    you: viewer.participant ? participantView(viewer.participant) : null,
    facilitator: viewer.facilitator,
    log: log.map(entryView),
    scoreboard: (loaded?.drill.scoreboard ?? []).map((row) => {
      const score = scores.get(row.step);
      return {
        step: row.step,
        title: steps.find((s) => s.id === row.step)?.title ?? row.step,
        phase: NIST_PHASE_LABELS[row.phase] ?? row.phase,
        passedAt: score?.passedAt ?? null,
        tMs: score?.tMs ?? null,
        // The checks' messages come from the answer key (they name the compromised pod, the
        // attacker's binding...): nobody sees them before the drill ends, only pass or fail.
        criteria: (score?.criteria ?? []).map((c) => ({ id: c.id, passed: c.passed, message: drill.state === 'ended' ? c.message : '' })),
      };
    }),
    expectations: (loaded?.drill.expectations ?? []).map((e) => ({ id: e.id, text: e.text, met: marks.get(e.id)?.met ?? false, at: marks.get(e.id)?.at ?? null })),
    questions: steps
      .filter((s) => loaded?.drill.scoreboard.some((row) => row.step === s.id))
      .flatMap((s) => s.questions.map((q) => ({ id: q.id, step: s.id, prompt: q.prompt, ...(q.placeholder ? { placeholder: q.placeholder } : {}), answer: answers[q.id] ?? '' }))),
    createdAt: drill.createdAt,
    startedAt: drill.startedAt,
    endedAt: drill.endedAt,
  };
  if (viewer.facilitator && loaded) {
    const statuses = await repo.injectStatuses(drill.id);
    view.upcomingInjects = loaded.drill.injects
      .filter((inject) => (statuses.get(inject.id) ?? 'pending') === 'pending')
      .map((inject) => ({ id: inject.id, title: inject.title, atMs: offsetMs(inject.at), conditional: Boolean(inject.unless), attack: Boolean(inject.attack?.length) }));
  }
  return view;
}
