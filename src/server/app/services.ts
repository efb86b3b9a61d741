/**
 * The composition root: every stateful service of the server, built once from one Config and
 * handed out (serve.ts's routes get them as arguments, Astro's pages and endpoints as
 * `Astro.locals.services`). Nothing here lives on globalThis or in a module variable: a second
 * call builds a second, independent set (tests do that with their own data directory).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { marked } from 'marked';
import { describe as describeProblem } from '../cluster/cluster-watchdog.ts';
import { EmbeddedProvider } from '../cluster/embedded-provider.ts';
import { EngineBuild } from '../cluster/engine-build.ts';
import { KindProvider } from '../cluster/kind-provider.ts';
import { OwnerFile } from '../cluster/pool-state.ts';
import { selectProvider } from '../cluster/select-provider.ts';
import { learnerKubeconfig } from '../cluster/types.ts';
import { WarmPool, type PoolEvent } from '../cluster/warm-pool.ts';
import { classService, type ClassService } from '../classes/classes.ts';
import { loadDrills } from '../drill/project-drills.ts';
import { liveRuntime } from '../drill/runtime.ts';
import { drillService, type DrillService, type DrillTerminals } from '../drill/service.ts';
import { oidcClient, type OidcClient } from '../accounts/oidc-client.ts';
import { roleService, type RoleService } from '../instructors/roles.ts';
import { ensureInstructorToken } from '../instructors/token.ts';
import { identityService, type IdentityService } from '../learners/identities.ts';
import { DRILL_SEAT, labEngineOn, type LabEngine } from '../../lib/lab-engine.ts';
import { ownedClusters, pooledClusters, type ClusterSource } from '../lab/cluster-source.ts';
import { labNextOf } from '../lab/lab-next.ts';
import { validateProjectLabs, type LoadedLab } from '../lab/labs.ts';
import { labService, workspaceUnder, type LabService } from '../lab/service.ts';
import { learnerService, type LearnerService } from '../learners/learners.ts';
import { LearningEvents } from '../learners/learning-events.ts';
import { ensureToolKey, sharedToolKey } from '../lti/tool-key.ts';
import { ltiTool, type LtiTool } from '../lti/lti-tool.ts';
import { ServerLimits } from '../limits/server-limits.ts';
import { sharedBuckets } from '../limits/shared-buckets.ts';
import type { QueryAnswer, QueryJob } from '../query/query-job.ts';
import { createQueryPool } from '../query/query-pool.ts';
import type { WorkerPool } from '../query/worker-pool.ts';
import { loadCatalog, type QuizCatalog } from '../quiz/catalog.ts';
import { quizEngine, type QuizEngine } from '../quiz/attempts.ts';
import { answerKeyDir } from '../scenarios/answer-key.ts';
import { allMigrations, connectStore, type SqlStore } from '../store/index.ts';
import { engineClusters, noCluster, sharedKubeconfig, terminalClusterOwner, type LeaseCluster } from '../terminal/cluster-source.ts';
import { spawnNodePty } from '../terminal/node-pty-spawn.ts';
import { prepareSandboxHost, SandboxUnavailableError, type SandboxHost } from '../terminal/sandbox-host.ts';
import { TerminalManager } from '../terminal/session-manager.ts';
import { xapiService, type XapiService } from '../xapi/service.ts';
import type { Config } from './config.ts';
import { cellRegistry, type CellRegistry } from '../cells/registry.ts';
import { noClusters } from '../front/no-clusters.ts';

export interface Services {
  config: Config;
  /** The store (SQLite, or PostgreSQL with IRLAB_DATABASE_URL) as every converted module uses it. */
  db: SqlStore;
  learners: LearnerService;
  /** The identities learners sign in with (OIDC; LTI and join codes too). */
  identities: IdentityService;
  /** Instructor and operator roles of signed-in learners (ask through instructors/access.ts). */
  roles: RoleService;
  /** OpenID Connect sign-in; undefined when the operator has not configured a provider. */
  signIn: OidcClient | undefined;
  /** Labs launched, steps passed, quizzes answered and completed: subscribe here (xAPI, LTI grades, dashboards). */
  learningEvents: LearningEvents;
  /** Learning events as xAPI statements through an outbox to the LRS; null without IRLAB_XAPI_ENDPOINT. */
  xapi: XapiService | null;
  labs: LabService;
  /** irlab as an LTI 1.3 tool (launches, Deep Linking, grade passback); null when IRLAB_LTI_PLATFORMS is unset. */
  lti: LtiTool | null;
  /** The engine labs run on (the warm pool's provider), what it means for a learner, and each lab's fit. */
  labEngine: LabEngine;
  drills: DrillService;
  /** The learners' shells; null when this host cannot sandbox them (`terminalProblem` says why). */
  terminals: TerminalManager | null;
  terminalProblem: string | undefined;
  sandbox: SandboxHost | null;
  /** What a terminal without a lab gets, in words (the boot line). */
  terminalClusters: string;
  /** Whether a terminal session without a lab creates a cluster (then it spends a cluster start). */
  clusterPerSession: boolean;
  /** The cluster engine's binaries: present, or being built in the background (IRLAB_ENGINE_BUILD=auto). */
  engine: EngineBuild;
  /** The warm pool, started on first use (a claim, or warm()). */
  pool(): Promise<WarmPool>;
  /** The warm pool if something started it already (sizing it from the classes due never starts it). */
  runningPool(): Promise<WarmPool> | undefined;
  limits: ServerLimits;
  /** Query workers, created on the first query. */
  queryPool(): WorkerPool<QueryJob, QueryAnswer>;
  quizzes(): Promise<QuizEngine>;
  catalog(): Promise<QuizCatalog>;
  instructorToken: string;
  /** Classes: join codes, members, assignments, messages (the dashboard reads the store with them). */
  classes: ClassService;
  /** The project's labs, validated (cached; re-read per call under `irlab dev`). */
  labContent(): Promise<LoadedLab[]>;
  /** Fills the warm pool and seeds incidents ahead of time (when the engine is there). */
  warm(): Promise<void>;
  /** Fronts and cells (IRLAB_ROLE front or cell): the registry of cells and placements; undefined for one process (all). */
  cells: CellRegistry | undefined;
  /** Stops everything this set started: timers, sessions, seeding, the pool's clusters, workers, the store. */
  close(): Promise<void>;
}

/** What Astro's pages and endpoints get as `Astro.locals` (typed for them in src/env.d.ts). */
export interface Locals {
  services: Services;
  /** The request's client address (client-address.ts `requestAddress`), set by the HTTP server for endpointAddress. */
  clientAddress?: string | undefined;
  /** On a cell: the learner whose lab shell a front's signed watch is for (cell-gate.ts); the front checked the instructor. */
  watching?: string | undefined;
}

export interface BuildOptions {
  log?: (line: string) => void;
  error?: (line: string) => void;
  /** false: no sandbox host, no terminal manager (the dev server, unit tests). */
  terminals?: boolean;
  /** false: no drill timers (tests drive tick/score themselves). */
  drillTimers?: boolean;
  /** The engine build's command (tests); engine/build.sh otherwise. */
  engineCommand?: { file: string; args: string[] };
}

/** Content read once, or per call when `live` (`irlab dev`); a failed read is retried next time. */
function cachedContent<T>(load: () => Promise<T>, live: boolean): () => Promise<T> {
  let cached: Promise<T> | undefined;
  return () => {
    if (live) return load();
    cached ??= load().catch((error: unknown) => {
      cached = undefined;
      throw error;
    });
    return cached;
  };
}

function poolLogger(log: (line: string) => void, error: (line: string) => void): (event: PoolEvent) => void {
  return (event) => {
    if (event.type === 'reaped') error(`irlab: reaped ${event.report.clusters.length} cluster(s) left by a crashed server (${event.report.processes} processes)`);
    else if (event.type === 'error') error(`irlab: ${event.message}`);
    // One line per cluster: operators see the pool refill, bench:lab waits for it.
    else if (event.type === 'created') log(`irlab: warm pool: ${event.name} ready in ${(event.ms / 1000).toFixed(1)} s`);
    else if (event.type === 'watchdog') {
      const w = event.event;
      if (w.type === 'broken') error(`irlab: watchdog: cluster ${w.name}: ${describeProblem(w.problem)}; restarting it`);
      else if (w.type === 'repaired') log(`irlab: watchdog: cluster ${w.name} repaired in ${(w.ms / 1000).toFixed(1)} s`);
      else if (w.type === 'repair-failed') error(`irlab: watchdog: cluster ${w.name}: repair ${w.attempt} failed: ${w.message}`);
      else error(`irlab: watchdog: cluster ${w.name} deleted, it could not be repaired (${w.why}); its lab gets a new one on its next request`);
    } else if (event.type === 'claimed') log(`irlab: warm pool: ${event.name} claimed ${event.warm ? 'warm' : 'cold (the pool was empty)'}`);
  };
}

export async function buildServices(config: Config, options: BuildOptions = {}): Promise<Services> {
  const log = options.log ?? ((line) => console.log(line));
  const error = options.error ?? ((line) => console.error(line));
  const env = config.env as NodeJS.ProcessEnv;
  // PostgreSQL with IRLAB_DATABASE_URL (several processes share it), else SQLite in the data dir.
  const db = await connectStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }, allMigrations);
  const learners = learnerService({ store: db });
  const learningEvents = new LearningEvents();
  // Subscribed before anything can emit: each event's statement is in the outbox when the emitter's await returns.
  const xapi = config.xapi ? xapiService({ store: db, publicUrl: config.publicUrl, lrs: config.xapi, log, error }) : null;
  if (xapi) {
    learningEvents.subscribe((event) => xapi.listener(event));
    xapi.start();
  }
  const identities = identityService({ store: db });
  const roles = roleService({ store: db });
  const signIn = config.oidc ? oidcClient({ settings: config.oidc, store: db, redirectUri: `${config.publicUrl}/auth/callback` }) : undefined;
  const instructorToken = ensureInstructorToken({ env, dir: config.dataDir, log }).token;
  // On PostgreSQL (fronts and cells, several processes) the rate budgets are the database's, shared
  // by every process; the embedded single process keeps them in memory (docs/security.md).
  const limits = new ServerLimits(config.limits, Date.now, config.databaseUrl ? sharedBuckets(db) : undefined);

  // Looked at (and with IRLAB_ENGINE_BUILD=auto built) in the background: the site serves at once,
  // cluster-needing requests get a 503 with the progress until it is ready (http/engine-routes.ts).
  const engine = new EngineBuild({ env, config: config.engine, log, ...(options.engineCommand ? { command: options.engineCommand } : {}) });
  engine.start();
  const provider = new EmbeddedProvider({ env });
  // One kind provider for the server: it reaps the kind clusters dead owners left (the pool's
  // deleteOther) and, with IRLAB_LAB_ENGINE=kind, runs the labs, keeping its engine between runs.
  const kind = new KindProvider({ env, keepOurEngine: config.labs.engine === 'kind' });
  let pool: Promise<WarmPool> | undefined;
  const startPool = () =>
    (pool ??= WarmPool.start({
      provider,
      ...config.pool,
      onEvent: poolLogger(log, error),
      // The terminal's kind clusters are listed in owner files beside the pool's.
      deleteOther: (name, cluster) => (name === 'kind' ? kind.delete(cluster) : Promise.reject(new Error(`unknown provider ${name}`))),
    }));
  // Labs run on the pool's engine, or on kind when the operator says so (a learner there holds
  // their own bounded credential: ClusterProvider.learnerAccess); a lab needing another engine
  // is listed but cannot start.
  const poolClusters = pooledClusters(provider, startPool);
  const kindLabs = config.labs.engine === 'kind' ? ownedClusters(kind, new OwnerFile(config.pool.stateDir, provider.workDir, process.pid, 'labs')) : undefined;
  // A front hosts no clusters and no shells (its cells do): its lab service reads the database only.
  const front = config.cells.role === 'front';
  const clusters: ClusterSource = front ? noClusters(provider) : (kindLabs ?? poolClusters);
  const labEngine = labEngineOn(clusters.provider.name);
  const cells = config.cells.role === 'all' ? undefined : cellRegistry({ store: db, placeWithinMs: 3 * config.cells.heartbeatMs, expireAfterMs: config.cells.expireAfterMs });

  const labsContent = cachedContent<LoadedLab[]>(async () => (await validateProjectLabs(config.contentRoot)).labs, config.contentLive);
  const labs = labService({
    events: learningEvents,
    db,
    root: config.contentRoot,
    labs: labsContent,
    clusters,
    engine: labEngine,
    workspaceOf: workspaceUnder(config.dataDir),
    answerKeys: answerKeyDir(env),
    renderMarkdown: async (markdown) => marked.parse(markdown, { async: true }),
    preparedPerLab: config.labs.preparedPerLab,
    scenarioTimeScale: config.raw.IRLAB_SCENARIO_TIME_SCALE,
    waitingTimeScale: Math.min(config.raw.IRLAB_SCENARIO_WAITING_TIME_SCALE, config.raw.IRLAB_SCENARIO_TIME_SCALE),
    timeLimit: config.labs.timeLimit,
    nextOf: labNextOf(config.contentRoot, config.contentLive, (need) => !labEngine.fit(need).unavailable),
    // The shell on a run's cluster goes with it (a reset's is replaced when the page reconnects).
    onRunEnded: async (owner, reason) => {
      if (reason !== 'expired' || !terminals) return;
      for (const session of terminals.list().filter((s) => s.owner === owner && !s.group)) {
        await terminals.close(session.id, 'Your lab run reached its time limit: its cluster was given back. Your progress, notes and workspace files are kept; start the lab again for a new cluster.');
      }
    },
  });

  // The terminal: a sandboxed shell per learner, on their lab's cluster when they have one.
  let sandbox: SandboxHost | null = null;
  let terminalProblem: string | undefined;
  let terminalClusters = 'no cluster attached';
  let clusterPerSession = false;
  let terminals: TerminalManager | null = null;
  if (options.terminals !== false && !front) {
    try {
      sandbox = prepareSandboxHost(config.dataDir, env);
    } catch (caught) {
      if (!(caught instanceof SandboxUnavailableError)) throw caught;
      terminalProblem = caught.message;
    }
  } else {
    terminalProblem = front ? 'this server is a front: terminals run on cells' : 'this server runs without terminals';
  }
  if (sandbox) {
    let fallback: LeaseCluster = noCluster;
    if (config.terminal.kubeconfig) {
      terminalClusters = `cluster from ${config.terminal.kubeconfig}`;
      error(`irlab: IRLAB_TERMINAL_KUBECONFIG: every terminal without a lab shares ${config.terminal.kubeconfig} and its credential; use it for your own demo, never with untrusted learners`);
      fallback = sharedKubeconfig(path.resolve(config.terminal.kubeconfig));
    } else if (config.terminal.cluster === 'engine') {
      // A learner's cluster: always embedded (select-provider.ts says why kind never is).
      const choose = async () => {
        const selected = await selectProvider({ env, untrusted: true });
        const available = await selected.provider.available();
        if (available.ok) return selected;
        error(`irlab: this terminal gets no cluster: ${available.problems.join('; ')}`);
        return null;
      };
      terminalClusters = `a cluster per session (${(await selectProvider({ env, untrusted: true })).reason})`;
      clusterPerSession = true;
      // Every term-* cluster is listed in an owner file beside the pool's: a crashed server's are reaped.
      fallback = engineClusters(choose, (line) => log(`irlab terminal: ${line}`), terminalClusterOwner(config.pool.stateDir, provider.workDir));
    }
    terminals = new TerminalManager({
      dataDir: config.dataDir,
      host: sandbox,
      spawnPty: spawnNodePty,
      // A learner with a running lab gets a shell on that lab's cluster (the lab owns and deletes it).
      leaseCluster: async (owner) => {
        const lab = await labs.clusterFor(owner);
        // The learner's own credential where the engine's admin would reach the host (kind).
        if (lab) return { name: lab.name, kubeconfigPath: learnerKubeconfig(lab, clusters.provider), release: async () => {} };
        return fallback(owner);
      },
      wantedCluster: async (owner) => (await labs.clusterFor(owner))?.name,
      graceMs: config.terminal.graceMs,
      ttlMs: config.terminal.ttlMs,
    });
  }

  // Drills: each participant's terminal is a session of the same manager on the drill's cluster.
  const manager = terminals;
  const drillTerminals: DrillTerminals | undefined = manager
    ? {
        open: async (owner, lease, principal, group) => {
          const session = await manager.open(owner, { cols: 80, rows: 24 }, { lease, principal, group });
          return { id: session.id, createdAt: session.createdAt };
        },
        closeGroup: async (group) => {
          for (const session of manager.list().filter((s) => s.group === group)) await manager.close(session.id, 'The drill ended.');
        },
        recordingPath: (id) => manager.recordingPath(id),
        workspaceDir: (owner) => manager.workspaceDir(owner),
      }
    : undefined;
  // The drills placed on this cell, each said once in the log when this cell first runs its timers.
  const announcedDrills = new Set<string>();
  const drillsOnThisCell = async (registry: CellRegistry): Promise<ReadonlySet<string>> => {
    const here = new Set((await registry.placementsOn(config.cells.id)).filter((p) => p.runKind === 'drill').map((p) => p.runId));
    for (const id of here) if (!announcedDrills.has(id)) log(`irlab drills: drill ${id} is placed on this cell (${config.cells.id}): its clock, injects and scoreboard run here`);
    for (const id of announcedDrills) if (!here.has(id)) announcedDrills.delete(id);
    for (const id of here) announcedDrills.add(id);
    return here;
  };
  const drillState = path.join(config.dataDir, 'drills');
  const emptyWorkspace = path.join(drillState, 'empty-workspace');
  mkdirSync(emptyWorkspace, { recursive: true, mode: 0o700 });
  const drills = drillService({
    store: db,
    drills: cachedContent(() => loadDrills(config.contentRoot), false),
    // On the labs' engine: on kind each participant's certificate is also in the learner group,
    // so the boundary that holds a learner holds them (drill/runtime.ts).
    runtime: liveRuntime({ clusters, answerKeys: answerKeyDir(env), stateDir: drillState, emptyWorkspace }),
    engine: labEngineOn(clusters.provider.name, DRILL_SEAT),
    maxLive: config.drills.maxLive,
    ...(drillTerminals ? { terminals: drillTerminals } : {}),
    // A cell runs the clocks, injects and scoreboards of the drills placed on it, no other's.
    ...(cells && config.cells.role === 'cell' ? { hostedHere: () => drillsOnThisCell(cells) } : {}),
  });
  const timers: NodeJS.Timeout[] = [];
  // Runs past their deadline give their clusters back even when nobody looks at them.
  if (!front) timers.push(setInterval(() => void labs.sweepExpired().catch((caught: unknown) => error(`irlab labs: the expiry sweep failed: ${String(caught)}`)), 30_000).unref());
  // A front runs no drill timers: a drill's clock, injects and scoreboard are its cell's.
  if (options.drillTimers !== false && !front) {
    log(`irlab drills: this ${config.cells.role === 'cell' ? `cell (${config.cells.id}) runs the clocks, injects and scoreboards of the drills placed on it` : 'process runs every drill\'s clock, injects and scoreboard'}`);
    let scoring = false;
    timers.push(setInterval(() => void drills.tick(), 1000).unref());
    timers.push(
      setInterval(() => {
        if (scoring) return;
        scoring = true;
        void drills.score().finally(() => (scoring = false));
      }, config.drills.scoreMs).unref(),
    );
    void drills.resume().catch((caught: unknown) => error(`irlab drills: resuming after start failed: ${String(caught)}`));
  }

  let queries: WorkerPool<QueryJob, QueryAnswer> | undefined;
  const catalog = cachedContent(() => loadCatalog(config.contentRoot), config.contentLive);
  const quizzes = cachedContent(async () => quizEngine({ store: db, catalog: await catalog(), events: learningEvents }), config.contentLive);

  const lti = config.lti
    ? ltiTool({
        config,
        // Several servers on one PostgreSQL database sign with one key (the platform caches one).
        key: db.dialect.name === 'postgres' ? await sharedToolKey(db, config.dataDir) : ensureToolKey(config.dataDir),
        store: db,
        learners,
        identities,
        events: learningEvents,
        activities: async () => [
          ...(await labsContent()).map((l) => ({ kind: 'lab' as const, slug: l.slug, title: l.lab.title })),
          ...(await catalog()).all().map((q) => ({ kind: 'quiz' as const, slug: q.slug, title: q.data.title })),
        ],
        log: error,
      })
    : null;

  let closing: Promise<void> | undefined;
  return {
    config,
    db,
    learners,
    identities,
    roles,
    signIn,
    learningEvents,
    xapi,
    labs,
    lti,
    labEngine,
    drills,
    terminals,
    terminalProblem,
    sandbox,
    terminalClusters,
    clusterPerSession,
    pool: startPool,
    runningPool: () => pool,
    limits,
    queryPool: () => (queries ??= createQueryPool(config.query)),
    quizzes,
    catalog,
    instructorToken,
    classes: classService({ store: db, learners, identities }),
    labContent: labsContent,
    engine,
    cells,
    async warm() {
      if (front) return;
      // The pool and the incident shelf start once the engine is there, without a restart.
      if (!(await engine.ready())) return;
      const available = await provider.available();
      if (!available.ok) return;
      const started = await startPool();
      log(`irlab: warm pool started (${started.readyNames().length} ready; IRLAB_WARM_POOL_SIZE sets how many to keep)`);
      // Then seed incidents ahead of time (IRLAB_LAB_PREPARED per lab): Start waits for no seeding.
      await labs.prepareAll();
    },
    close() {
      closing ??= (async () => {
        for (const timer of timers) clearInterval(timer);
        await lti?.close();
        await engine.stop();
        await terminals?.shutdown();
        await labs.close().catch(() => undefined);
        // kind lab clusters are containers of this machine: none outlives the server.
        await kindLabs?.releaseAll().catch((caught: unknown) => error(`irlab: deleting the kind lab clusters failed: ${String(caught)}`));
        // Every cluster the pool owns is deleted before the process exits: exiting first leaves
        // them running, and if the data dir goes too (a test's temp dir), nothing reaps them.
        if (pool) await pool.then((p) => p.shutdown(), () => undefined).catch((caught: unknown) => error(`irlab: deleting the warm pool's clusters failed: ${String(caught)}`));
        await queries?.close();
        // The request in flight is aborted; what is not delivered stays in the outbox for the next start.
        await xapi?.close();
        await db.close();
      })();
      return closing;
    },
  };
}
