/**
 * Drills as a team lives them: create (facilitator token, cluster from the pool, seeded in the
 * background), join, the shared log, scripted and manual injects, the scoreboard and
 * expectations, per-participant terminals, and the after-action report when it ends; the
 * facilitator's actions (the clock, the end, injects) are in facilitator.ts. Everything is in the
 * store (SQLite or PostgreSQL); the clock is derived from persisted fields and each inject leaves
 * `pending` at most once, so after a restart `resume()` re-arms the scheduler from the database
 * and nothing fires twice.
 */
import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { marked } from 'marked';
import type { DrillScenarioSummary, DrillView, LogEntry } from '../../lib/drill-view.ts';
import { DRILL_SEAT, labEngineOn, type LabEngine } from '../../lib/lab-engine.ts';
import type { SqlStore } from '../store/sql-store.ts';
import { elapsedAt } from './clock.ts';
import { DrillError, sha256, type Caller, type DrillContext, type NewEntry } from './context.ts';
import { facilitatorActions } from './facilitator.ts';
import type { LoadedDrill } from './load.ts';
import { drillRepository, type DrillRow, type ParticipantRow, type StoredEntry } from './repository.ts';
import type { DrillRuntime } from './runtime.ts';
import { buildView, entryView, participantView, terminalsLock, type Viewer } from './views.ts';
import { drillScheduler } from './scheduler.ts';
import { groupOf, terminalOwner, type DrillEvent, type DrillTerminals } from './types.ts';
import { DRILL_ID } from '../cells/cluster-routes.ts';

export { DrillError, groupOf, sha256, terminalOwner, type Caller, type DrillEvent, type DrillTerminals };

export interface DrillServiceOptions {
  /** The async store (SQLite or PostgreSQL). */
  store: SqlStore;
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
  /**
   * The drills whose clock, injects and scoreboard this process runs (a cell: the drills placed on
   * it); absent: every live drill (one process).
   */
  hostedHere?: () => Promise<ReadonlySet<string>>;
}

/** A new drill's id (a front draws it to place the drill before the cell makes it). */
export const newDrillId = (): string => `drl_${randomBytes(9).toString('base64url')}`;

const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const CODE_LENGTH = 6;
/** What a join code can be (a front refuses others before they reach the database). */
export const DRILL_CODE = new RegExp(`^[${CODE_ALPHABET}]{${CODE_LENGTH}}$`);
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,31}$/;

export function drillService(options: DrillServiceOptions) {
  const { store } = options;
  const repo = drillRepository(store);
  const now = options.now ?? Date.now;
  const iso = () => new Date(now()).toISOString();
  const listeners = new Map<string, Set<(event: DrillEvent) => void>>();
  const preparing = new Map<string, Promise<void>>();
  const terminals = options.terminals;
  const maxLive = options.maxLive ?? 10;
  const engine = options.engine ?? labEngineOn('embedded', DRILL_SEAT);

  async function loadedOf(scenario: string): Promise<LoadedDrill> {
    const loaded = (await options.drills()).find((d) => d.slug === scenario);
    if (!loaded) throw new DrillError(`no drill for scenario "${scenario}": it needs a scenarios/${scenario}/drill.yaml`, 404);
    return loaded;
  }

  async function drillOf(id: string): Promise<DrillRow> {
    const drill = await repo.drill(id);
    if (!drill) throw new DrillError(`no drill ${id}`, 404);
    return drill;
  }

  function emit(id: string, event: DrillEvent): void {
    for (const listener of listeners.get(id) ?? []) listener(event);
  }

  const announce = (id: string, entry: StoredEntry) => emit(id, { type: 'entry', entry: entryView(entry) });
  const newEntry = (drill: DrillRow, entry: NewEntry) => ({ at: iso(), tMs: elapsedAt(drill.clock, now()), kind: entry.kind, author: entry.author ?? null, title: entry.title, body: entry.body, detail: entry.detail ?? null });

  async function append(drill: DrillRow, entry: NewEntry): Promise<StoredEntry> {
    const stored = await repo.append(drill.id, newEntry(drill, entry));
    announce(drill.id, stored);
    return stored;
  }

  /** Facilitator (bearer token, compared as SHA-256 in constant time) or participant (cookie); else 403. */
  async function authorize(drill: DrillRow, caller: Caller): Promise<Viewer> {
    if (caller.facilitatorToken) {
      const given = Buffer.from(sha256(caller.facilitatorToken), 'hex');
      const stored = Buffer.from(drill.facilitatorSha256, 'hex');
      if (given.length === stored.length && timingSafeEqual(given, stored)) return { facilitator: true, participant: null };
      throw new DrillError('the facilitator token does not match this drill', 403);
    }
    const participant = caller.learnerId ? await repo.participantOfLearner(drill.id, caller.learnerId) : undefined;
    if (participant) return { facilitator: false, participant };
    throw new DrillError('you are not in this drill: join it with its code first', 403);
  }

  async function facilitatorOnly(drill: DrillRow, caller: Caller): Promise<void> {
    if (!(await authorize(drill, caller)).facilitator) throw new DrillError('only the facilitator can do this (send the facilitator token as a Bearer token)', 403);
  }

  async function view(id: string, caller: Caller): Promise<DrillView> {
    const drill = await drillOf(id);
    const viewer = await authorize(drill, caller);
    const loaded = await loadedOf(drill.scenario).catch(() => undefined);
    return buildView(repo, drill, loaded, viewer, now());
  }

  async function prepare(id: string, loaded: LoadedDrill): Promise<void> {
    // Progress is written in order and only while preparing: a late one never hides the outcome.
    let progressed = Promise.resolve();
    const progress = (message: string) => {
      progressed = progressed
        .then(() => repo.setProgress(id, message))
        .then(() => emit(id, { type: 'state' }), (error: unknown) => console.error(`irlab drill ${id}: progress not saved:`, error));
    };
    try {
      const name = await options.runtime.prepare(loaded, (await drillOf(id)).seed, progress);
      await progressed;
      await repo.setCluster(id, 'ready', 'the incident is seeded and the cluster is ready', name);
      await append(await drillOf(id), { kind: 'system', title: 'Cluster ready', body: 'The drill cluster is ready: open your terminal.' });
    } catch (error) {
      await progressed;
      await repo.setCluster(id, 'failed', `preparing the cluster failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    emit(id, { type: 'state' });
  }

  /** The live drills this process looks after (tick, score, resume). */
  async function liveHere(): Promise<DrillRow[]> {
    const live = await repo.liveDrills();
    if (!options.hostedHere) return live;
    const here = await options.hostedHere();
    return live.filter((drill) => here.has(drill.id));
  }

  const renderMarkdown = options.renderMarkdown ?? (async (markdown: string) => marked.parse(markdown, { async: true }));
  const scheduler = drillScheduler({ repo, liveDrills: liveHere, runtime: options.runtime, now, append, emit, loadedOf, drillOf, terminals: () => terminals, renderMarkdown });
  const context: DrillContext = { store, repo, runtime: options.runtime, terminals, now, iso, emit, append, drillOf, loadedOf, authorize, facilitatorOnly, view, scheduler };
  const facilitator = facilitatorActions(context);

  return {
    async scenarios(): Promise<DrillScenarioSummary[]> {
      return (await options.drills()).map((d) => ({ slug: d.slug, title: d.drill.title, summary: d.drill.summary, defaultDurationMinutes: d.drill.defaultDurationMinutes, roles: d.drill.roles, engine: engine.fit(d.lab.lab.engine) }));
    },

    /** `id`: the one a front placed the drill under (else a fresh one). */
    async create(input: { scenario: string; title?: string; durationMinutes: number; roles: string[]; id?: string }): Promise<{ drill: DrillView; facilitatorToken: string }> {
      const loaded = await loadedOf(input.scenario);
      // Before any cluster is claimed: a drill whose lab needs another engine (node-escape needs a real node).
      const { unavailable } = engine.fit(loaded.lab.lab.engine);
      if (unavailable) throw new DrillError(`the drill "${loaded.slug}" cannot start on this server: it ${unavailable.reason}. Choose another scenario on /drills; an operator: ${unavailable.operator}`, 409);
      const full = () => new DrillError(`this server runs at most ${maxLive} drills at once: end one first`, 429);
      if ((await repo.liveDrills()).length >= maxLive) throw full();
      if (!Number.isFinite(input.durationMinutes) || input.durationMinutes < 1 || input.durationMinutes > 480) throw new DrillError('durationMinutes must be a number from 1 to 480');
      const roles = [...new Set(input.roles.map((r) => String(r).trim()).filter(Boolean))];
      if (roles.length === 0 || roles.length > 12 || roles.some((r) => r.length > 40)) throw new DrillError('give 1 to 12 roles of at most 40 characters each');
      const token = randomBytes(32).toString('base64url');
      const newCode = () => Array.from({ length: CODE_LENGTH }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join('');
      if (input.id !== undefined && !DRILL_ID.test(input.id)) throw new DrillError(`the drill id ${JSON.stringify(input.id.slice(0, 40))} is not one a front draws`);
      const id = input.id ?? newDrillId();
      const row = {
        id, code: newCode(), title: (input.title ?? '').trim().slice(0, 120) || loaded.drill.title, scenario: loaded.slug, roles,
        durationMs: Math.round(input.durationMinutes * 60_000), facilitatorSha256: sha256(token), state: 'lobby' as const, createdAt: iso(),
        startedAt: null, endedAt: null, clock: { elapsedMs: 0, runningSince: null }, seed: randomBytes(8).toString('hex'),
        clusterName: null, clusterStatus: 'preparing' as const, clusterMessage: 'claiming a cluster',
      };
      // A code someone else holds (drawn at the same time too) is drawn again.
      for (let draws = 1; !(await repo.insertDrill(row)); draws++) {
        if (draws === 20) throw new Error('no free drill join code after 20 draws');
        row.code = newCode();
      }
      // The budget is checked after inserting, on committed rows: of drills created at the same
      // time over the limit, the later ones (in created_at, id order) see the earlier and withdraw.
      if ((await repo.liveDrillsUpTo(row)) > maxLive) {
        await repo.deleteNewDrill(id);
        throw full();
      }
      const created = await store.transaction(async (tx) => {
        const r = drillRepository(tx);
        await r.ensureInjects(id, loaded.drill.injects.map((i) => i.id), iso());
        return r.append(id, newEntry({ ...row, report: null, terminalsEarly: false }, { kind: 'system', title: 'Drill created', body: `Scenario: ${loaded.scenario.scenario.title}. Join code ${row.code}.` }));
      });
      announce(id, created);
      const pending = prepare(id, loaded).finally(() => preparing.delete(id));
      preparing.set(id, pending);
      return { drill: await view(id, { facilitatorToken: token }), facilitatorToken: token };
    },

    /** Resolves when the drill's cluster is ready or failed (tests, the CLI). */
    prepared: (id: string) => preparing.get(id) ?? Promise.resolve(),

    async join(code: string, learnerId: string, name: string, role: string): Promise<{ drill: DrillView; participant: ReturnType<typeof participantView> }> {
      const drill = await repo.drillByCode(String(code).trim().toUpperCase());
      if (!drill) throw new DrillError('no drill has this code: check it with your facilitator', 404);
      if (drill.state === 'ended') throw new DrillError('this drill has ended', 409);
      let participant = await repo.participantOfLearner(drill.id, learnerId);
      if (!participant) {
        const clean = String(name).trim();
        if (!NAME_PATTERN.test(clean)) throw new DrillError('a name is 1 to 32 letters, digits, spaces, ".", "_" or "-", starting with a letter or digit');
        if (!drill.roles.includes(role)) throw new DrillError(`pick one of the drill's roles: ${drill.roles.join(', ')}`);
        const taken = () => new DrillError(`someone in this drill is already called "${clean}": pick another name`, 409);
        if ((await repo.participants(drill.id)).some((p) => p.name.toLowerCase() === clean.toLowerCase())) throw taken();
        const row: ParticipantRow = { id: `prt_${randomBytes(9).toString('base64url')}`, drillId: drill.id, learnerId, name: clean, role, joinedAt: iso(), terminalSessionId: null };
        // The insert decides: the same learner joining twice at once, the name taken in any case
        // meanwhile, or the drill ended meanwhile make it insert nothing (and log nothing).
        const joined = await store.transaction(async (tx) => {
          const r = drillRepository(tx);
          if (!(await r.insertParticipant(row))) return null;
          return r.append(drill.id, newEntry(drill, { kind: 'system', title: `${clean} joined`, body: `${clean} joined as ${role}.` }));
        });
        participant = await repo.participantOfLearner(drill.id, learnerId);
        if (joined) {
          announce(drill.id, joined);
          emit(drill.id, { type: 'state' });
        } else if (!participant) {
          if ((await drillOf(drill.id)).state === 'ended') throw new DrillError('this drill has ended', 409);
          throw taken();
        }
      }
      return { drill: await view(drill.id, { learnerId }), participant: participantView(participant!) };
    },

    view,
    authorize: async (id: string, caller: Caller) => authorize(await drillOf(id), caller),

    async post(id: string, caller: Caller, kind: 'note' | 'decision', text: string): Promise<LogEntry> {
      const drill = await drillOf(id);
      const viewer = await authorize(drill, caller);
      if (kind !== 'note' && kind !== 'decision') throw new DrillError('kind is "note" or "decision"');
      const body = String(text ?? '').trim();
      if (!body || body.length > 4000) throw new DrillError('write 1 to 4000 characters');
      if (drill.state === 'ended') throw new DrillError('the drill has ended', 409);
      // The author comes from who is calling, never from the request body.
      const author = viewer.participant
        ? { participantId: viewer.participant.id, name: viewer.participant.name, role: viewer.participant.role }
        : { participantId: null, name: 'Facilitator', role: 'facilitator' };
      const title = body.split('\n')[0]!.slice(0, 120);
      return entryView(await append(drill, { kind, title, body, author }));
    },

    control: facilitator.control,
    inject: facilitator.inject,
    markExpectation: facilitator.markExpectation,

    async answer(id: string, caller: Caller, answers: Record<string, unknown>): Promise<DrillView> {
      const drill = await drillOf(id);
      const viewer = await authorize(drill, caller);
      if (!viewer.participant) throw new DrillError('answers come from participants', 403);
      const participantId = viewer.participant.id;
      const loaded = await loadedOf(drill.scenario);
      const known = new Set(loaded.lab.lab.steps.flatMap((s) => s.questions.map((q) => q.id)));
      const given = Object.entries(answers ?? {});
      for (const [question] of given) if (!known.has(question as never)) throw new DrillError(`no question "${question}"`);
      // All of one submission or none of it.
      await store.transaction(async (tx) => {
        const r = drillRepository(tx);
        for (const [question, answer] of given) await r.setAnswer(id, question, String(answer).slice(0, 2000), participantId, iso());
      });
      emit(id, { type: 'state' });
      return view(id, caller);
    },

    /** The caller's terminal on the drill cluster, as `drill:<name>`. */
    async terminal(id: string, caller: Caller): Promise<{ sessionId: string }> {
      const drill = await drillOf(id);
      const viewer = await authorize(drill, caller);
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
        await repo.setTerminal(id, participant.id, session.id, session.createdAt);
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
      const drill = await drillOf(id);
      const viewer = await authorize(drill, caller);
      if (!viewer.participant) throw new DrillError('the audit log is for participants: join the drill first', 403);
      if (drill.state === 'ended') throw new DrillError('the drill has ended and its cluster was deleted: the after-action report keeps what the audit log showed', 409);
      const lock = terminalsLock(drill);
      if (lock) throw new DrillError(lock.replace('terminals open', 'terminals and the audit log open'), 423);
      if (drill.clusterStatus !== 'ready' || !drill.clusterName) throw new DrillError(`the drill cluster is not ready: ${drill.clusterMessage}`, 409);
      return options.runtime.auditLogPath(drill.clusterName);
    },

    /** A watcher may see a session of a drill they are in. */
    async canWatch(learnerId: string, group: string | null): Promise<boolean> {
      const match = /^drill:(.+)$/.exec(group ?? '');
      return Boolean(match && (await repo.participantOfLearner(match[1]!, learnerId)));
    },

    entriesAfter: async (id: string, afterSeq: number) => (await repo.log(id, afterSeq)).map(entryView),

    subscribe(id: string, listener: (event: DrillEvent) => void): () => void {
      let set = listeners.get(id);
      if (!set) listeners.set(id, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(id);
      };
    },

    report: facilitator.report,

    /** What a front reads to route a drill's requests to its cell. */
    idByCode: async (code: string) => (await repo.drillByCode(code))?.id,
    drillOfTerminal: (sessionId: string) => repo.drillOfTerminal(sessionId),
    stateOf: async (id: string) => (await repo.drill(id))?.state,
    lostCell: facilitator.lostCell,

    /** Fires what is due in every running drill (the server calls this every second). */
    async tick(): Promise<void> {
      for (const drill of await liveHere()) if (drill.state === 'running') await scheduler.fireDue(drill.id);
    },

    /** Evaluates every live drill's scoreboard once; a first green is logged as a `check` entry. */
    score: () => scheduler.score(),

    /**
     * After a restart: injects a crash left half-fired are marked failed (never retried), drills
     * whose preparation was cut short or whose cluster is gone say so, then due injects fire.
     */
    async resume(): Promise<void> {
      for (const drill of await liveHere()) {
        for (const injectId of await repo.interruptedInjects(drill.id)) {
          // Marked and logged together, once, however many resumes run.
          const logged = await store.transaction(async (tx) => {
            const r = drillRepository(tx);
            if (!(await r.finishInject(drill.id, injectId, 'failed', iso()))) return null;
            return r.append(drill.id, newEntry(drill, { kind: 'system', title: 'A scripted inject was interrupted', body: 'The server restarted while an inject was firing; it is not repeated.', detail: { inject: injectId } }));
          });
          if (logged) announce(drill.id, logged);
        }
        if (drill.clusterStatus === 'preparing' && !preparing.has(drill.id)) {
          await repo.setCluster(drill.id, 'failed', 'the server restarted while the cluster was being prepared: create a new drill');
        } else if (drill.clusterStatus === 'ready' && drill.clusterName && !(await options.runtime.exists(drill.clusterName))) {
          await repo.setCluster(drill.id, 'failed', 'the drill cluster did not survive the server restart; the log, clock and injects go on without it');
        }
      }
      await this.tick();
    },
  };
}

export type DrillService = ReturnType<typeof drillService>;
