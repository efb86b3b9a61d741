/**
 * Drills as a team lives them: create (facilitator token, cluster from the pool, seeded in the
 * background), join, the shared log, the clock (start, pause, resume, fast-forward, end),
 * scripted and manual injects, the scoreboard and expectations, per-participant terminals, and
 * the after-action report when it ends. Everything is in SQLite; the clock is derived from
 * persisted fields and each inject leaves `pending` at most once, so after a restart `resume()`
 * re-arms the scheduler from the database and nothing fires twice.
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { marked } from 'marked';
import type { DrillReport, DrillScenarioSummary, DrillView, LogEntry, LogEntryKind } from '../../lib/drill-view.ts';
import { DRILL_SEAT, labEngineOn, type LabEngine } from '../../lib/lab-engine.ts';
import { brandStatus } from '../../lib/error-status.ts';
import type { Store } from '../store/database.ts';
import { elapsedAt, fastForwarded, running, stopped } from './clock.ts';
import type { LoadedDrill } from './load.ts';
import { buildDrillReport } from './report-data.ts';
import { drillRepository, type DrillRow, type ParticipantRow, type StoredEntry } from './repository.ts';
import type { DrillRuntime } from './runtime.ts';
import { buildView, entryView, participantView, terminalsLock, type Viewer } from './views.ts';
import { drillScheduler } from './scheduler.ts';
import { groupOf, terminalOwner, type DrillEvent, type DrillTerminals } from './types.ts';

export { groupOf, terminalOwner, type DrillEvent, type DrillTerminals };

export class DrillError extends Error {
  readonly status: number;
  constructor(message: string, status = 400) {
    super(message);
    this.name = 'DrillError';
    this.status = status;
    brandStatus(this, status);
  }
}

export interface Caller {
  learnerId?: string;
  /** The bearer token, when the request carried one. */
  facilitatorToken?: string;
}

export interface DrillServiceOptions {
  store: Store;
  drills: () => Promise<LoadedDrill[]>;
  runtime: DrillRuntime;
  now?: () => number;
  terminals?: DrillTerminals;
  /** Drills not ended at once (each holds a cluster); default 10. */
  maxLive?: number;
  /** Renders an inject's Markdown (author content from drill.yaml) to HTML; default: marked, as lab steps. */
  renderMarkdown?: (markdown: string) => Promise<string>;
  /** The engine drills run on and each drill's fit (its lab's `engine`); default: the embedded pool's. */
  engine?: LabEngine;
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,31}$/;

export function drillService(options: DrillServiceOptions) {
  const repo = drillRepository(options.store);
  const now = options.now ?? Date.now;
  const iso = () => new Date(now()).toISOString();
  const listeners = new Map<string, Set<(event: DrillEvent) => void>>();
  const preparing = new Map<string, Promise<void>>();
  const terminals = options.terminals;
  const engine = options.engine ?? labEngineOn('embedded', DRILL_SEAT);

  async function loadedOf(scenario: string): Promise<LoadedDrill> {
    const loaded = (await options.drills()).find((d) => d.slug === scenario);
    if (!loaded) throw new DrillError(`no drill for scenario "${scenario}": it needs a scenarios/${scenario}/drill.yaml`, 404);
    return loaded;
  }

  function drillOf(id: string): DrillRow {
    const drill = repo.drill(id);
    if (!drill) throw new DrillError(`no drill ${id}`, 404);
    return drill;
  }

  function emit(id: string, event: DrillEvent): void {
    for (const listener of listeners.get(id) ?? []) listener(event);
  }

  function append(drill: DrillRow, entry: { kind: LogEntryKind; title: string; body: string; author?: LogEntry['author']; detail?: Record<string, unknown> }): StoredEntry {
    const stored = repo.append(drill.id, { at: iso(), tMs: elapsedAt(drill.clock, now()), kind: entry.kind, author: entry.author ?? null, title: entry.title, body: entry.body, detail: entry.detail ?? null });
    emit(drill.id, { type: 'entry', entry: entryView(stored) });
    return stored;
  }

  /** Facilitator (bearer token, compared as SHA-256 in constant time) or participant (cookie); else 403. */
  function authorize(drill: DrillRow, caller: Caller): Viewer {
    if (caller.facilitatorToken) {
      const given = Buffer.from(sha256(caller.facilitatorToken), 'hex');
      const stored = Buffer.from(drill.facilitatorSha256, 'hex');
      if (given.length === stored.length && timingSafeEqual(given, stored)) return { facilitator: true, participant: null };
      throw new DrillError('the facilitator token does not match this drill', 403);
    }
    const participant = caller.learnerId ? repo.participantOfLearner(drill.id, caller.learnerId) : undefined;
    if (participant) return { facilitator: false, participant };
    throw new DrillError('you are not in this drill: join it with its code first', 403);
  }

  function facilitatorOnly(drill: DrillRow, caller: Caller): void {
    if (!authorize(drill, caller).facilitator) throw new DrillError('only the facilitator can do this (send the facilitator token as a Bearer token)', 403);
  }

  async function view(id: string, caller: Caller): Promise<DrillView> {
    const drill = drillOf(id);
    const viewer = authorize(drill, caller);
    const loaded = await loadedOf(drill.scenario).catch(() => undefined);
    return buildView(repo, drill, loaded, viewer, now());
  }

  async function prepare(id: string, loaded: LoadedDrill): Promise<void> {
    const progress = (message: string) => {
      repo.setCluster(id, 'preparing', message);
      emit(id, { type: 'state' });
    };
    try {
      const name = await options.runtime.prepare(loaded, drillOf(id).seed, progress);
      repo.setCluster(id, 'ready', 'the incident is seeded and the cluster is ready', name);
      append(drillOf(id), { kind: 'system', title: 'Cluster ready', body: 'The drill cluster is ready: open your terminal.' });
    } catch (error) {
      repo.setCluster(id, 'failed', `preparing the cluster failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    emit(id, { type: 'state' });
  }

  const renderMarkdown = options.renderMarkdown ?? (async (markdown: string) => marked.parse(markdown, { async: true }));
  const scheduler = drillScheduler({ repo, runtime: options.runtime, now, append, emit, loadedOf, drillOf, terminals: () => terminals, renderMarkdown });

  async function end(drill: DrillRow): Promise<void> {
    repo.setState(drill.id, 'ended', stopped(drill.clock, now()), { endedAt: iso(), ...(drill.startedAt ? {} : { startedAt: iso() }) });
    scheduler.stop(drill.id);
    append(drillOf(drill.id), { kind: 'system', title: 'Drill ended', body: 'The facilitator ended the drill. The after-action report is being prepared.', detail: { control: 'end' } });
    emit(drill.id, { type: 'state' });
    await terminals?.closeGroup(groupOf(drill.id)).catch(() => {});
    await report(drill.id).catch((error: unknown) => console.error(`irlab drill ${drill.id}: report failed:`, error));
    const ended = drillOf(drill.id);
    if (ended.clusterName && ended.clusterStatus === 'ready') {
      // Deleted, never handed to anyone else: participants held credentials and shells on it.
      const released = await options.runtime.release(ended.clusterName).then(() => null, (error: unknown) => (error instanceof Error ? error.message : String(error)));
      if (released === null) repo.setCluster(drill.id, 'deleted', 'the drill ended and its cluster was deleted');
      else repo.setCluster(drill.id, 'failed', `the drill ended, but deleting its cluster failed: ${released}`);
    }
    emit(drill.id, { type: 'state' });
  }

  async function report(id: string): Promise<DrillReport> {
    const drill = drillOf(id);
    if (drill.state !== 'ended') throw new DrillError('the report is built when the drill ends', 409);
    if (drill.report) return JSON.parse(drill.report) as DrillReport;
    const loaded = await loadedOf(drill.scenario);
    const built = await buildDrillReport({ drill, loaded, repo, runtime: options.runtime, terminals, now: now() });
    repo.setReport(id, JSON.stringify(built));
    return built;
  }

  return {
    async scenarios(): Promise<DrillScenarioSummary[]> {
      return (await options.drills()).map((d) => ({ slug: d.slug, title: d.drill.title, summary: d.drill.summary, defaultDurationMinutes: d.drill.defaultDurationMinutes, roles: d.drill.roles, engine: engine.fit(d.lab.lab.engine) }));
    },

    async create(input: { scenario: string; title?: string; durationMinutes: number; roles: string[] }): Promise<{ drill: DrillView; facilitatorToken: string }> {
      const loaded = await loadedOf(input.scenario);
      // Before any cluster is claimed: a drill whose lab needs another engine (node-escape needs a real node).
      const { unavailable } = engine.fit(loaded.lab.lab.engine);
      if (unavailable) throw new DrillError(`the drill "${loaded.slug}" cannot start on this server: it ${unavailable.reason}. Choose another scenario on /drills; an operator: ${unavailable.operator}`, 409);
      if (repo.liveDrills().length >= (options.maxLive ?? 10)) throw new DrillError(`this server runs at most ${options.maxLive ?? 10} drills at once: end one first`, 429);
      if (!Number.isFinite(input.durationMinutes) || input.durationMinutes < 1 || input.durationMinutes > 480) throw new DrillError('durationMinutes must be a number from 1 to 480');
      const roles = [...new Set(input.roles.map((r) => String(r).trim()).filter(Boolean))];
      if (roles.length === 0 || roles.length > 12 || roles.some((r) => r.length > 40)) throw new DrillError('give 1 to 12 roles of at most 40 characters each');
      const token = randomBytes(32).toString('base64url');
      const newCode = () => Array.from({ length: 6 }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join('');
      let code = newCode();
      while (repo.drillByCode(code)) code = newCode();
      const id = `drl_${randomBytes(9).toString('base64url')}`;
      repo.insertDrill({
        id, code, title: (input.title ?? '').trim().slice(0, 120) || loaded.drill.title, scenario: loaded.slug, roles,
        durationMs: Math.round(input.durationMinutes * 60_000), facilitatorSha256: sha256(token), state: 'lobby', createdAt: iso(),
        startedAt: null, endedAt: null, clock: { elapsedMs: 0, runningSince: null }, seed: randomBytes(8).toString('hex'),
        clusterName: null, clusterStatus: 'preparing', clusterMessage: 'claiming a cluster',
      });
      repo.ensureInjects(id, loaded.drill.injects.map((i) => i.id), iso());
      append(drillOf(id), { kind: 'system', title: 'Drill created', body: `Scenario: ${loaded.scenario.scenario.title}. Join code ${code}.` });
      const pending = prepare(id, loaded).finally(() => preparing.delete(id));
      preparing.set(id, pending);
      return { drill: await view(id, { facilitatorToken: token }), facilitatorToken: token };
    },

    /** Resolves when the drill's cluster is ready or failed (tests, the CLI). */
    prepared: (id: string) => preparing.get(id) ?? Promise.resolve(),

    async join(code: string, learnerId: string, name: string, role: string): Promise<{ drill: DrillView; participant: ReturnType<typeof participantView> }> {
      const drill = repo.drillByCode(String(code).trim().toUpperCase());
      if (!drill) throw new DrillError('no drill has this code: check it with your facilitator', 404);
      if (drill.state === 'ended') throw new DrillError('this drill has ended', 409);
      const existing = repo.participantOfLearner(drill.id, learnerId);
      if (!existing) {
        const clean = String(name).trim();
        if (!NAME_PATTERN.test(clean)) throw new DrillError('a name is 1 to 32 letters, digits, spaces, ".", "_" or "-", starting with a letter or digit');
        if (!drill.roles.includes(role)) throw new DrillError(`pick one of the drill's roles: ${drill.roles.join(', ')}`);
        if (repo.participants(drill.id).some((p) => p.name.toLowerCase() === clean.toLowerCase())) throw new DrillError(`someone in this drill is already called "${clean}": pick another name`, 409);
        const participant: ParticipantRow = { id: `prt_${randomBytes(9).toString('base64url')}`, drillId: drill.id, learnerId, name: clean, role, joinedAt: iso(), terminalSessionId: null };
        repo.insertParticipant(participant);
        append(drill, { kind: 'system', title: `${clean} joined`, body: `${clean} joined as ${role}.` });
        emit(drill.id, { type: 'state' });
      }
      const participant = repo.participantOfLearner(drill.id, learnerId)!;
      return { drill: await view(drill.id, { learnerId }), participant: participantView(participant) };
    },

    view,
    authorize: (id: string, caller: Caller) => authorize(drillOf(id), caller),

    async post(id: string, caller: Caller, kind: 'note' | 'decision', text: string): Promise<LogEntry> {
      const drill = drillOf(id);
      const viewer = authorize(drill, caller);
      if (kind !== 'note' && kind !== 'decision') throw new DrillError('kind is "note" or "decision"');
      const body = String(text ?? '').trim();
      if (!body || body.length > 4000) throw new DrillError('write 1 to 4000 characters');
      if (drill.state === 'ended') throw new DrillError('the drill has ended', 409);
      // The author comes from who is calling, never from the request body.
      const author = viewer.participant
        ? { participantId: viewer.participant.id, name: viewer.participant.name, role: viewer.participant.role }
        : { participantId: null, name: 'Facilitator', role: 'facilitator' };
      const title = body.split('\n')[0]!.slice(0, 120);
      return entryView(append(drill, { kind, title, body, author }));
    },

    async control(id: string, caller: Caller, action: string, minutes?: number): Promise<DrillView> {
      const drill = drillOf(id);
      facilitatorOnly(drill, caller);
      const at = now();
      const clockEntry = (title: string, control: string) => append(drillOf(id), { kind: 'system', title, body: title, detail: { control } });
      switch (action) {
        case 'start':
          if (drill.state !== 'lobby') throw new DrillError(`the drill is ${drill.state}; start works in the lobby`, 409);
          if (drill.clusterStatus === 'preparing') throw new DrillError(`the drill cluster is still being prepared (${drill.clusterMessage}); start once it is ready`, 409);
          repo.setState(id, 'running', running(drill.clock, at), { startedAt: iso() });
          clockEntry('Drill started', 'start');
          break;
        case 'pause':
          if (drill.state !== 'running') throw new DrillError(`the drill is ${drill.state}; only a running drill pauses`, 409);
          repo.setState(id, 'paused', stopped(drill.clock, at));
          clockEntry('Drill paused', 'pause');
          break;
        case 'resume':
          if (drill.state !== 'paused') throw new DrillError(`the drill is ${drill.state}; only a paused drill resumes`, 409);
          repo.setState(id, 'running', running(drill.clock, at));
          clockEntry('Drill resumed', 'resume');
          break;
        case 'fast-forward': {
          const by = Number(minutes);
          if (!(by > 0 && by <= 240)) throw new DrillError('fast-forward needs minutes from 0 to 240');
          if (drill.state !== 'running' && drill.state !== 'paused') throw new DrillError(`the drill is ${drill.state}; fast-forward works while it runs or is paused`, 409);
          repo.setState(id, drill.state, fastForwarded(drill.clock, at, by * 60_000));
          clockEntry(`Clock fast-forwarded by ${by} min`, 'fast-forward');
          break;
        }
        case 'open-terminals':
        case 'lock-terminals': {
          const open = action === 'open-terminals';
          if (drill.state !== 'lobby') throw new DrillError(`the drill is ${drill.state}; terminals are opened or locked early only before the start (the clock opens them)`, 409);
          if (drill.terminalsEarly === open) break;
          repo.setTerminalsEarly(id, open);
          // Not a clock control (`detail.control` marks the clock for the report): the clock stays at 0.
          append(drillOf(id), { kind: 'system', title: open ? 'Terminals opened before the start' : 'Terminals locked until the start', body: open ? 'The facilitator opened the terminals and the audit log before the clock starts.' : 'The facilitator locked the terminals and the audit log again until the clock starts.', detail: { terminals: action } });
          // Locked again: the shells opened early end (their recordings are kept for the report).
          if (!open) await terminals?.closeGroup(groupOf(id)).catch(() => {});
          break;
        }
        case 'end':
          if (drill.state === 'ended') throw new DrillError('the drill has already ended', 409);
          await end(drill);
          return view(id, caller);
        default:
          throw new DrillError(`unknown action "${action}": use start, pause, resume, fast-forward, end, open-terminals or lock-terminals`);
      }
      emit(id, { type: 'state' });
      await scheduler.fireDue(id);
      return view(id, caller);
    },

    async inject(id: string, caller: Caller, input: { injectId?: string; title?: string; body?: string }): Promise<LogEntry | null> {
      const drill = drillOf(id);
      facilitatorOnly(drill, caller);
      if (drill.state === 'ended') throw new DrillError('the drill has ended', 409);
      if (input.injectId !== undefined) {
        const inject = (await loadedOf(drill.scenario)).drill.injects.find((i) => i.id === input.injectId);
        if (!inject) throw new DrillError(`no scripted inject "${input.injectId}"`, 404);
        if (repo.injectStatuses(id).get(inject.id) !== 'pending') throw new DrillError(`inject "${inject.id}" has already fired or been skipped`, 409);
        const before = repo.log(id).at(-1)?.seq ?? 0;
        await scheduler.fire(id, inject, 'facilitator');
        return repo.log(id, before).map(entryView)[0] ?? null;
      }
      const title = String(input.title ?? '').trim();
      const body = String(input.body ?? '').trim();
      if (!title || title.length > 120 || body.length > 4000) throw new DrillError('a manual inject needs a title (1 to 120 characters) and a body of at most 4000');
      return entryView(append(drill, { kind: 'inject', title, body, author: { participantId: null, name: 'Facilitator', role: 'facilitator' }, detail: { manual: true } }));
    },

    async markExpectation(id: string, caller: Caller, expectationId: string, met: boolean): Promise<DrillView> {
      const drill = drillOf(id);
      facilitatorOnly(drill, caller);
      const expectation = (await loadedOf(drill.scenario)).drill.expectations.find((e) => e.id === expectationId);
      if (!expectation) throw new DrillError(`no expectation "${expectationId}"`, 404);
      if (typeof met !== 'boolean') throw new DrillError('met is true or false');
      repo.markExpectation(id, expectationId, met, iso());
      append(drill, { kind: 'expectation', title: `${met ? 'Met' : 'Not met'}: ${expectation.text}`, body: expectation.text, author: { participantId: null, name: 'Facilitator', role: 'facilitator' }, detail: { expectation: expectationId, met } });
      emit(id, { type: 'state' });
      return view(id, caller);
    },

    async answer(id: string, caller: Caller, answers: Record<string, unknown>): Promise<DrillView> {
      const drill = drillOf(id);
      const viewer = authorize(drill, caller);
      if (!viewer.participant) throw new DrillError('answers come from participants', 403);
      const loaded = await loadedOf(drill.scenario);
      const known = new Set(loaded.lab.lab.steps.flatMap((s) => s.questions.map((q) => q.id)));
      for (const [question, answer] of Object.entries(answers ?? {})) {
        if (!known.has(question as never)) throw new DrillError(`no question "${question}"`);
        repo.setAnswer(id, question, String(answer).slice(0, 2000), viewer.participant.id, iso());
      }
      emit(id, { type: 'state' });
      return view(id, caller);
    },

    /** The caller's terminal on the drill cluster, as `drill:<name>`. */
    async terminal(id: string, caller: Caller): Promise<{ sessionId: string }> {
      const drill = drillOf(id);
      const viewer = authorize(drill, caller);
      if (!viewer.participant || !caller.learnerId) throw new DrillError('terminals are for participants: join the drill first', 403);
      // Enforced here, not only hidden in the room: nobody investigates before T+0 unless the facilitator allows it.
      const lock = terminalsLock(drill);
      if (lock) throw new DrillError(lock, 423);
      if (!terminals) throw new DrillError('terminals are unavailable on this server', 503);
      if (drill.clusterStatus !== 'ready' || !drill.clusterName) throw new DrillError(`the drill cluster is not ready: ${drill.clusterMessage}`, 409);
      if (drill.state === 'ended') throw new DrillError('the drill has ended', 409);
      const participant = viewer.participant;
      const cluster = drill.clusterName;
      const session = await terminals.open(
        terminalOwner(id, participant.id),
        async () => ({ name: cluster, kubeconfigPath: await options.runtime.participantKubeconfig(cluster, id, participant), release: async () => {} }),
        caller.learnerId,
        groupOf(id),
      );
      if (participant.terminalSessionId !== session.id) {
        repo.setTerminal(id, participant.id, session.id, session.createdAt);
        emit(id, { type: 'state' });
      }
      return { sessionId: session.id };
    },

    /**
     * The drill cluster's audit log for a participant's Audit log tab (POST /api/query with the
     * source `drill:<id>`): participants only (an outsider or another drill's participant gets
     * 403), under the same lock as the terminals, while the cluster exists.
     */
    async auditLog(id: string, caller: Caller): Promise<string> {
      const drill = drillOf(id);
      const viewer = authorize(drill, caller);
      if (!viewer.participant) throw new DrillError('the audit log is for participants: join the drill first', 403);
      if (drill.state === 'ended') throw new DrillError('the drill has ended and its cluster was deleted: the after-action report keeps what the audit log showed', 409);
      const lock = terminalsLock(drill);
      if (lock) throw new DrillError(lock.replace('terminals open', 'terminals and the audit log open'), 423);
      if (drill.clusterStatus !== 'ready' || !drill.clusterName) throw new DrillError(`the drill cluster is not ready: ${drill.clusterMessage}`, 409);
      return options.runtime.auditLogPath(drill.clusterName);
    },

    /** A watcher may see a session of a drill they are in. */
    canWatch(learnerId: string, group: string | null): boolean {
      const match = /^drill:(.+)$/.exec(group ?? '');
      return Boolean(match && repo.participantOfLearner(match[1]!, learnerId));
    },

    entriesAfter: (id: string, afterSeq: number) => repo.log(id, afterSeq).map(entryView),

    subscribe(id: string, listener: (event: DrillEvent) => void): () => void {
      let set = listeners.get(id);
      if (!set) listeners.set(id, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(id);
      };
    },

    report,

    /** Fires what is due in every running drill (the server calls this every second). */
    async tick(): Promise<void> {
      for (const drill of repo.liveDrills()) if (drill.state === 'running') await scheduler.fireDue(drill.id);
    },

    /** Evaluates every live drill's scoreboard once; a first green is logged as a `check` entry. */
    score: () => scheduler.score(),

    /**
     * After a restart: injects a crash left half-fired are marked failed (never retried), drills
     * whose preparation was cut short or whose cluster is gone say so, then due injects fire.
     */
    async resume(): Promise<void> {
      for (const drill of repo.liveDrills()) {
        for (const injectId of repo.interruptedInjects(drill.id)) {
          repo.finishInject(drill.id, injectId, 'failed', iso());
          append(drill, { kind: 'system', title: 'A scripted inject was interrupted', body: 'The server restarted while an inject was firing; it is not repeated.', detail: { inject: injectId } });
        }
        if (drill.clusterStatus === 'preparing' && !preparing.has(drill.id)) {
          repo.setCluster(drill.id, 'failed', 'the server restarted while the cluster was being prepared: create a new drill');
        } else if (drill.clusterStatus === 'ready' && drill.clusterName && !(await options.runtime.exists(drill.clusterName))) {
          repo.setCluster(drill.id, 'failed', 'the drill cluster did not survive the server restart; the log, clock and injects go on without it');
        }
      }
      await this.tick();
    },
  };
}

export type DrillService = ReturnType<typeof drillService>;
