/**
 * The facilitator's actions on a drill: the clock (start, pause, resume, fast-forward), the
 * terminals before the start, the end (with the report and the cluster's deletion), scripted and
 * manual injects, and the expectations. Each change is a conditional write on the state it was
 * decided from, with its log entry in the same transaction: two clicks, two facilitator tabs or a
 * tick racing an action apply once each (a second pause or end is refused, a second fast-forward
 * adds to the first), never twice and never lost.
 */
import type { DrillReport, DrillView, LogEntry } from '../../lib/drill-view.ts';
import { elapsedAt, fastForwarded, running, stopped, type ClockFields } from './clock.ts';
import { DrillError, type Caller, type DrillContext } from './context.ts';
import { buildDrillReport } from './report-data.ts';
import { drillRepository, type DrillRow, type DrillStateName, type StoredEntry } from './repository.ts';
import { groupOf } from './types.ts';
import { entryView } from './views.ts';

/** How often an action decided on a state someone changed meanwhile is decided again. */
const ATTEMPTS = 5;

type ClockAction = 'start' | 'pause' | 'resume' | 'fast-forward';
interface Step {
  state: DrillStateName;
  clock: ClockFields;
  stamps?: { startedAt?: string };
  title: string;
}

/** What a clock action does to the drill as read, or why it cannot (409). */
function clockStep(drill: DrillRow, action: ClockAction, byMinutes: number, at: number, iso: string): Step {
  switch (action) {
    case 'start':
      if (drill.state !== 'lobby') throw new DrillError(`the drill is ${drill.state}; start works in the lobby`, 409);
      if (drill.clusterStatus === 'preparing') throw new DrillError(`the drill cluster is still being prepared (${drill.clusterMessage}); start once it is ready`, 409);
      return { state: 'running', clock: running(drill.clock, at), stamps: { startedAt: iso }, title: 'Drill started' };
    case 'pause':
      if (drill.state !== 'running') throw new DrillError(`the drill is ${drill.state}; only a running drill pauses`, 409);
      return { state: 'paused', clock: stopped(drill.clock, at), title: 'Drill paused' };
    case 'resume':
      if (drill.state !== 'paused') throw new DrillError(`the drill is ${drill.state}; only a paused drill resumes`, 409);
      return { state: 'running', clock: running(drill.clock, at), title: 'Drill resumed' };
    case 'fast-forward':
      if (drill.state !== 'running' && drill.state !== 'paused') throw new DrillError(`the drill is ${drill.state}; fast-forward works while it runs or is paused`, 409);
      return { state: drill.state, clock: fastForwarded(drill.clock, at, byMinutes * 60_000), title: `Clock fast-forwarded by ${byMinutes} min` };
  }
}

export function facilitatorActions(ctx: DrillContext) {
  const { repo, store, now, iso, emit, drillOf, facilitatorOnly, view, loadedOf, scheduler, terminals } = ctx;
  const announce = (id: string, entry: StoredEntry | null) => {
    if (entry) emit(id, { type: 'entry', entry: entryView(entry) });
  };

  /**
   * Decides `change` on the drill as read and writes it in one transaction that returns null when
   * the drill changed since the read (a conditional write matched nothing); then reads and decides
   * again. `change` throws when the action no longer applies (the second of two pauses).
   */
  async function retried(id: string, first: DrillRow, change: (drill: DrillRow, tx: ReturnType<typeof drillRepository>) => Promise<StoredEntry | null | 'unchanged'>): Promise<StoredEntry | null> {
    let drill = first;
    for (let attempt = 1; ; attempt++) {
      const current = drill;
      const outcome = await store.transaction((tx) => change(current, drillRepository(tx)));
      if (outcome === 'unchanged') return null;
      if (outcome) return outcome;
      if (attempt === ATTEMPTS) throw new DrillError('the drill kept changing while this action was applied: try again', 409);
      drill = await drillOf(id);
    }
  }

  /** The drill's end: once, whoever else tries at the same time (they get 409). */
  async function end(first: DrillRow): Promise<void> {
    const entry = await retried(first.id, first, async (drill, tx) => {
      if (drill.state === 'ended') throw new DrillError('the drill has already ended', 409);
      const stamps = { endedAt: iso(), ...(drill.startedAt ? {} : { startedAt: iso() }) };
      if (!(await tx.setState(drill, 'ended', stopped(drill.clock, now()), stamps))) return null;
      return tx.append(drill.id, { at: iso(), tMs: elapsedAt(drill.clock, now()), kind: 'system', author: null, title: 'Drill ended', body: 'The facilitator ended the drill. The after-action report is being prepared.', detail: { control: 'end' } });
    });
    const id = first.id;
    scheduler.stop(id);
    announce(id, entry);
    emit(id, { type: 'state' });
    await terminals?.closeGroup(groupOf(id)).catch(() => {});
    await report(id).catch((error: unknown) => console.error(`irlab drill ${id}: report failed:`, error));
    const ended = await drillOf(id);
    if (ended.clusterName && ended.clusterStatus === 'ready') {
      // Deleted, never handed to anyone else: participants held credentials and shells on it.
      const released = await ctx.runtime.release(ended.clusterName).then(() => null, (error: unknown) => (error instanceof Error ? error.message : String(error)));
      if (released === null) await repo.setCluster(id, 'deleted', 'the drill ended and its cluster was deleted');
      else await repo.setCluster(id, 'failed', `the drill ended, but deleting its cluster failed: ${released}`);
    }
    emit(id, { type: 'state' });
  }

  /**
   * The cell that held the drill was lost (fronts and cells): its cluster, shells and timers are
   * gone, so the drill ends here with a log entry saying so (once, whoever notices first) and its
   * report is built from what the database holds. Nothing is moved to another cell: a fresh
   * cluster would be a different incident than the one the team has been investigating.
   */
  async function lostCell(id: string): Promise<void> {
    const first = await drillOf(id);
    if (first.state === 'ended') return;
    const entry = await retried(id, first, async (drill, tx) => {
      if (drill.state === 'ended') return 'unchanged';
      const stamps = { endedAt: iso(), ...(drill.startedAt ? {} : { startedAt: iso() }) };
      if (!(await tx.setState(drill, 'ended', stopped(drill.clock, now()), stamps))) return null;
      return tx.append(drill.id, { at: iso(), tMs: elapsedAt(drill.clock, now()), kind: 'system', author: null, title: 'Drill ended: its server stopped', body: 'The server that held the drill cluster, its clock and the terminals stopped, so the drill was ended. The log and scoreboard are kept and the after-action report is built from them; to go on, the facilitator creates a new drill.', detail: { control: 'end', reason: 'cell-lost' } });
    }).catch((error: unknown) => {
      // Ended by someone else meanwhile: nothing to do.
      if (error instanceof DrillError) return null;
      throw error;
    });
    if (!entry) return;
    await repo.setCluster(id, 'failed', 'the server that held the drill cluster stopped');
    announce(id, entry);
    emit(id, { type: 'state' });
    await report(id).catch((error: unknown) => console.error(`irlab drill ${id}: report failed:`, error));
  }

  /** The report, built once (a second builder racing the first keeps the first's). */
  async function report(id: string): Promise<DrillReport> {
    const drill = await drillOf(id);
    if (drill.state !== 'ended') throw new DrillError('the report is built when the drill ends', 409);
    if (drill.report) return JSON.parse(drill.report) as DrillReport;
    const loaded = await loadedOf(drill.scenario);
    const built = await buildDrillReport({ drill, loaded, repo, runtime: ctx.runtime, terminals, now: now() });
    return JSON.parse(await repo.setReport(id, JSON.stringify(built))) as DrillReport;
  }

  return {
    report,
    lostCell,

    async control(id: string, caller: Caller, action: string, minutes?: number): Promise<DrillView> {
      const first = await drillOf(id);
      await facilitatorOnly(first, caller);
      switch (action) {
        case 'start':
        case 'pause':
        case 'resume':
        case 'fast-forward': {
          const by = Number(minutes);
          if (action === 'fast-forward' && !(by > 0 && by <= 240)) throw new DrillError('fast-forward needs minutes from 0 to 240');
          announce(id, await retried(id, first, async (drill, tx) => {
            const at = now();
            const step = clockStep(drill, action, by, at, iso());
            if (!(await tx.setState(drill, step.state, step.clock, step.stamps))) return null;
            return tx.append(id, { at: iso(), tMs: elapsedAt(step.clock, at), kind: 'system', author: null, title: step.title, body: step.title, detail: { control: action } });
          }));
          break;
        }
        case 'open-terminals':
        case 'lock-terminals': {
          const open = action === 'open-terminals';
          const entry = await retried(id, first, async (drill, tx) => {
            if (drill.state !== 'lobby') throw new DrillError(`the drill is ${drill.state}; terminals are opened or locked early only before the start (the clock opens them)`, 409);
            if (drill.terminalsEarly === open) return 'unchanged';
            if (!(await tx.setTerminalsEarly(id, open))) return null;
            // Not a clock control (`detail.control` marks the clock for the report): the clock stays at 0.
            return tx.append(id, { at: iso(), tMs: elapsedAt(drill.clock, now()), kind: 'system', author: null, title: open ? 'Terminals opened before the start' : 'Terminals locked until the start', body: open ? 'The facilitator opened the terminals and the audit log before the clock starts.' : 'The facilitator locked the terminals and the audit log again until the clock starts.', detail: { terminals: action } });
          });
          announce(id, entry);
          // Locked again: the shells opened early end (their recordings are kept for the report).
          if (entry && !open) await terminals?.closeGroup(groupOf(id)).catch(() => {});
          break;
        }
        case 'end':
          await end(first);
          return view(id, caller);
        default:
          throw new DrillError(`unknown action "${action}": use start, pause, resume, fast-forward, end, open-terminals or lock-terminals`);
      }
      emit(id, { type: 'state' });
      await scheduler.fireDue(id);
      return view(id, caller);
    },

    async inject(id: string, caller: Caller, input: { injectId?: string; title?: string; body?: string }): Promise<LogEntry | null> {
      const drill = await drillOf(id);
      await facilitatorOnly(drill, caller);
      if (drill.state === 'ended') throw new DrillError('the drill has ended', 409);
      if (input.injectId !== undefined) {
        const inject = (await loadedOf(drill.scenario)).drill.injects.find((i) => i.id === input.injectId);
        if (!inject) throw new DrillError(`no scripted inject "${input.injectId}"`, 404);
        // The claim decides (a tick or a second click may have taken it since any read).
        const fired = await scheduler.fire(id, inject, 'facilitator');
        if (!fired.claimed) throw new DrillError(`inject "${inject.id}" has already fired or been skipped`, 409);
        return fired.entry && entryView(fired.entry);
      }
      const title = String(input.title ?? '').trim();
      const body = String(input.body ?? '').trim();
      if (!title || title.length > 120 || body.length > 4000) throw new DrillError('a manual inject needs a title (1 to 120 characters) and a body of at most 4000');
      return entryView(await ctx.append(drill, { kind: 'inject', title, body, author: { participantId: null, name: 'Facilitator', role: 'facilitator' }, detail: { manual: true } }));
    },

    async markExpectation(id: string, caller: Caller, expectationId: string, met: boolean): Promise<DrillView> {
      const drill = await drillOf(id);
      await facilitatorOnly(drill, caller);
      const expectation = (await loadedOf(drill.scenario)).drill.expectations.find((e) => e.id === expectationId);
      if (!expectation) throw new DrillError(`no expectation "${expectationId}"`, 404);
      if (typeof met !== 'boolean') throw new DrillError('met is true or false');
      announce(id, await store.transaction(async (tx) => {
        const r = drillRepository(tx);
        await r.markExpectation(id, expectationId, met, iso());
        return r.append(id, { at: iso(), tMs: elapsedAt(drill.clock, now()), kind: 'expectation', title: `${met ? 'Met' : 'Not met'}: ${expectation.text}`, body: expectation.text, author: { participantId: null, name: 'Facilitator', role: 'facilitator' }, detail: { expectation: expectationId, met } });
      }));
      emit(id, { type: 'state' });
      return view(id, caller);
    },
  };
}
