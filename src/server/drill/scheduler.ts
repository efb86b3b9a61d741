/**
 * The parts of a drill that run by themselves: the inject scheduler (each inject at most once, in
 * order, its `unless` condition evaluated with the lab checks at fire time, attack steps made as
 * the attacker) and the scoreboard (the lab steps' checks against the drill cluster, through the
 * shared grading path; first greens logged). Driven by the service's injected clock, so units test
 * them without waiting. Checks of a drill run on its own signal: `stop(id)` when the drill ends
 * cancels them, and nothing a check started before the end is recorded after it.
 */
import type { LogEntry, LogEntryKind } from '../../lib/drill-view.ts';
import type { DrillInject } from '../../schemas/drill.ts';
import { offsetMs } from '../../schemas/drill.ts';
import type { ParamValue } from '../scenarios/params.ts';
import { fill } from '../scenarios/template.ts';
import { elapsedAt } from './clock.ts';
import type { LoadedDrill } from './load.ts';
import type { DrillRepository, DrillRow, StoredEntry } from './repository.ts';
import type { DrillRuntime } from './runtime.ts';
import { terminalOwner, type DrillEvent, type DrillTerminals } from './types.ts';

export interface SchedulerContext {
  repo: DrillRepository;
  /** The live drills this process scores (a cell: its own). */
  liveDrills: () => Promise<DrillRow[]>;
  runtime: DrillRuntime;
  now: () => number;
  append: (drill: DrillRow, entry: { kind: LogEntryKind; title: string; body: string; author?: LogEntry['author']; detail?: Record<string, unknown> }) => Promise<StoredEntry>;
  emit: (id: string, event: DrillEvent) => void;
  loadedOf: (scenario: string) => Promise<LoadedDrill>;
  drillOf: (id: string) => Promise<DrillRow>;
  terminals: () => DrillTerminals | undefined;
  /** The project's Markdown renderer (marked): inject bodies are author content, like lab steps. */
  renderMarkdown: (markdown: string) => Promise<string>;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * An inject's body as HTML: the author's Markdown is rendered with an inert marker for each
 * value, then each marker becomes its value, escaped. A value read from the cluster (a pod name)
 * is text wherever it stands (in a code span too), never markup or Markdown.
 */
async function injectHtml(body: string, values: Record<string, ParamValue>, fillText: (value: string, filling: Record<string, ParamValue>) => string, render: (markdown: string) => Promise<string>): Promise<string | undefined> {
  const names = Object.keys(values);
  const marker = (i: number) => `irlabvalue${i}x${names.length}q`;
  const markers = Object.fromEntries(names.map((name, i) => [name, marker(i)]));
  try {
    let html = await render(fillText(body, markers));
    names.forEach((name, i) => {
      const value = values[name]!;
      html = html.replaceAll(marker(i), escapeHtml(Array.isArray(value) ? value.join(', ') : value));
    });
    return html;
  } catch {
    return undefined;
  }
}

export function drillScheduler(ctx: SchedulerContext) {
  const { repo, now, append, emit, loadedOf, drillOf } = ctx;
  const iso = () => new Date(now()).toISOString();
  const busy = new Map<string, Promise<void>>();
  const grading = new Map<string, AbortController>();

  /** The signal the drill's checks run on, until `stop`. */
  function signalOf(id: string): AbortSignal {
    let controller = grading.get(id);
    if (!controller) grading.set(id, (controller = new AbortController()));
    return controller.signal;
  }

  /** The drill has ended: its running checks are cancelled and none starts again. */
  function stop(id: string): void {
    grading.get(id)?.abort(new Error(`drill ${id} has ended`));
    grading.delete(id);
  }

  /** Still live with its cluster ready, as the database says now (an await may have seen it end). */
  const stillScored = async (id: string) => {
    const current = await repo.drill(id);
    return Boolean(current && current.state !== 'ended' && current.clusterStatus === 'ready');
  };

  /**
   * Runs one inject (scripted or by id), at most once, honouring its condition: `claimed` is false
   * when another path (a tick, the facilitator, another process) took it first; `entry` is the
   * first log entry it made.
   */
  async function fire(id: string, inject: DrillInject, reason: 'scheduled' | 'facilitator'): Promise<{ claimed: boolean; entry: StoredEntry | null }> {
    if (!(await repo.claimInject(id, inject.id, iso()))) return { claimed: false, entry: null };
    let first: StoredEntry | null = null;
    const log = async (drill: DrillRow, entry: Parameters<SchedulerContext['append']>[1]) => {
      const stored = await append(drill, entry);
      first ??= stored;
      return stored;
    };
    const drill = await drillOf(id);
    const loaded = await loadedOf(drill.scenario);
    let outcome: 'fired' | 'skipped' | 'failed' = 'fired';
    try {
      const ready = drill.clusterStatus === 'ready' && drill.clusterName !== null;
      if (inject.unless) {
        const step = loaded.lab.lab.steps.find((s) => s.id === inject.unless!.step);
        const signal = signalOf(id);
        const passed = ready
          ? await ctx.runtime.evaluate(drill.clusterName!, loaded, inject.unless.step, await workspaces(drill), await repo.answers(id), signal).then(
            (r) => inject.unless!.criteria ? inject.unless!.criteria.every((c) => r.criteria.some((x) => x.id === c && x.passed)) : r.passed,
            () => false,
          )
          : false;
        // The drill ended while its condition was being checked: nothing fires after the end.
        if (signal.aborted) {
          outcome = 'skipped';
          return { claimed: true, entry: first };
        }
        if (passed) {
          outcome = 'skipped';
          if (inject.attack?.length) {
            await log(drill, { kind: 'attack-skipped', title: 'The attacker\'s next move was stopped', body: `${step?.title ?? inject.unless.step}: done in time.`, detail: { inject: inject.id, step: inject.unless.step, reason } });
          }
          return { claimed: true, entry: first };
        }
      }
      let values: Record<string, ParamValue> = {};
      if (ready) values = await ctx.runtime.values(drill.clusterName!, loaded).catch(() => ({}));
      const text = (value: string, filling = values) => {
        try {
          return String(fill(value, filling));
        } catch {
          return value;
        }
      };
      const html = await injectHtml(inject.body, values, text, ctx.renderMarkdown);
      await log(drill, { kind: 'inject', title: text(inject.title), body: text(inject.body), detail: { inject: inject.id, reason, ...(html ? { html } : {}) } });
      if (inject.attack?.length) {
        if (!ready) throw new Error(`the drill cluster is not available (${drill.clusterMessage || drill.clusterStatus})`);
        const outcomes = await ctx.runtime.attack(drill.clusterName!, loaded, inject.attack);
        const landed = outcomes.filter((o) => o.status > 0 && o.status < 400).length;
        await log(await drillOf(id), { kind: 'attack', title: 'Attacker activity on the cluster', body: 'Something happened on the cluster: the audit log has the details.', detail: { inject: inject.id, outcomes, landed } });
      }
    } catch (error) {
      outcome = 'failed';
      await log(await drillOf(id), { kind: 'system', title: 'A scripted inject could not run', body: error instanceof Error ? error.message : String(error), detail: { inject: inject.id } });
    } finally {
      await repo.finishInject(id, inject.id, outcome, iso());
      emit(id, { type: 'state' });
    }
    return { claimed: true, entry: first };
  }

  async function workspaces(drill: DrillRow): Promise<string[]> {
    const terminals = ctx.terminals();
    if (!terminals) return [];
    return (await repo.participants(drill.id)).map((p) => terminals.workspaceDir(terminalOwner(drill.id, p.id)));
  }

  /** One drill's due injects, in order; serialized per drill so a tick and a fast-forward never race. */
  function fireDue(id: string): Promise<void> {
    const previous = busy.get(id) ?? Promise.resolve();
    const next = previous.then(async () => {
      const drill = await repo.drill(id);
      if (!drill || drill.state !== 'running') return;
      const loaded = await loadedOf(drill.scenario);
      const elapsed = elapsedAt(drill.clock, now());
      const statuses = await repo.injectStatuses(id);
      for (const inject of loaded.drill.injects) {
        if (statuses.get(inject.id) === 'pending' && offsetMs(inject.at) <= elapsed) await fire(id, inject, 'scheduled');
        if ((await repo.drill(id))?.state !== 'running') return;
      }
    });
    const settled = next.catch((error: unknown) => console.error(`irlab drill ${id}: scheduler failed:`, error));
    busy.set(id, settled);
    return settled;
  }

  /** Evaluates every live drill's scoreboard once; a first green is logged as a `check` entry. */
  async function score(): Promise<void> {
    for (const drill of await ctx.liveDrills()) {
      if (drill.clusterStatus !== 'ready' || !drill.clusterName || drill.state === 'lobby') continue;
      const loaded = await loadedOf(drill.scenario).catch(() => undefined);
      if (!loaded) continue;
      const exists = await ctx.runtime.exists(drill.clusterName).catch(() => true);
      // Ended meanwhile: its cluster was deleted on purpose, which is no failure.
      if (!(await stillScored(drill.id))) continue;
      if (!exists) {
        await repo.setCluster(drill.id, 'failed', 'the drill cluster is gone (deleted after a server restart); the log, clock and message injects go on without it');
        emit(drill.id, { type: 'state' });
        continue;
      }
      let changed = false;
      const scores = await repo.scores(drill.id);
      for (const row of loaded.drill.scoreboard) {
        // A step's first green is what the scoreboard measures: once green, it is not re-run
        // (each run reads the cluster and its audit log; ten drills share two cores).
        if (scores.get(row.step)?.passedAt) continue;
        const result = await ctx.runtime.evaluate(drill.clusterName, loaded, row.step, await workspaces(drill), await repo.answers(drill.id), signalOf(drill.id)).catch((error: unknown) => ({
          passed: false, score: 0, criteria: [{ id: 'check-failed', passed: false, message: `the check could not run: ${error instanceof Error ? error.message : String(error)}` }],
        }));
        // A check the end cut short (or that finished after it) is not the drill's result.
        if (!(await stillScored(drill.id))) break;
        const current = await drillOf(drill.id);
        const first = await repo.recordScore(drill.id, row.step, iso(), elapsedAt(current.clock, now()), result.criteria, result.passed);
        changed = true;
        if (first) {
          const title = loaded.lab.lab.steps.find((s) => s.id === row.step)?.title ?? row.step;
          await append(current, { kind: 'check', title: `${title}: done`, body: `The ${row.step} checks all pass on the drill cluster.`, detail: { step: row.step, phase: row.phase } });
        }
      }
      if (changed) emit(drill.id, { type: 'state' });
    }
  }

  return { fire, fireDue, score, stop, workspaces };
}
