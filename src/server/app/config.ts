/**
 * The server's one configuration: every environment variable the server reads, validated at
 * boot with zod, every problem reported at once (the variable, what is wrong, how to fix it),
 * before anything listens. Modules get their settings from here (services.ts passes them in);
 * a leaf that still reads its own variable (the sandbox's shell budgets, the engine's paths) is
 * checked here with the same rule, so a bad value stops the boot, not a learner's request.
 * docs/configuration.md is the table of SETTINGS (a unit test keeps them in step).
 */
import { availableParallelism, hostname } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { parseUidRange } from '../terminal/uid-claims.ts';
import { workspaceBytesFromEnv } from '../terminal/workspace-volume.ts';
import { PROVIDER_NAMES } from '../cluster/types.ts';
import type { EngineBuildConfig } from '../cluster/engine-build.ts';
import type { LimitsConfig } from '../limits/server-limits.ts';
import type { LrsConfig } from '../xapi/sender.ts';
import { forwardKeyFrom } from '../cells/forward-auth.ts';
import { checkedBy, databaseUrl, flag, httpUrl, lrsEndpoint, ltiPlatforms, oneOf, origin, scale, text, whole } from './config-schemas.ts';
import type { Platform } from '../lti/platforms.ts';

type Env = Record<string, string | undefined>;

/** Every variable: its rule, its default as the table shows it, and what it means. */
export const SETTINGS = {
  PORT: { schema: whole(4321, 0, 65535), default: '4321', meaning: 'port the server listens on (0: any free port)' },
  HOST: { schema: text, default: 'localhost', meaning: 'address the server listens on' },
  IRLAB_DATA_DIR: { schema: text, default: '.irlab/data', meaning: 'the SQLite database, workspaces, answer keys, owner files of clusters' },
  IRLAB_DATABASE_URL: { schema: databaseUrl, default: 'unset', meaning: 'PostgreSQL for shared state (postgres://user:password@host:5432/db; the password is never printed); unset: SQLite in IRLAB_DATA_DIR/irlab.db' },
  IRLAB_ROOT: { schema: text, default: 'working directory', meaning: 'where labs/, scenarios/ and quizzes/ are read from' },
  IRLAB_CONTENT_LIVE: { schema: flag, default: '0', meaning: 're-read lab and quiz content per request (`irlab dev` sets it)' },
  IRLAB_INSTRUCTOR_TOKEN: { schema: text, default: 'generated', meaning: 'the instructor token; unset: generated into the data directory and printed at first start' },
  IRLAB_PUBLIC_URL: { schema: origin, default: 'unset', meaning: 'the origin learners reach irlab at (https://irlab.example.org): sign-in redirects, LTI and xAPI ids are built on it; unset: http://HOST:PORT' },
  IRLAB_XAPI_ENDPOINT: { schema: lrsEndpoint, default: 'unset', meaning: 'the LRS\'s xAPI base (https://lrs.example.org/xapi): learning events go to its /statements through an outbox; unset: no xAPI' },
  IRLAB_XAPI_KEY: { schema: text, default: 'unset', meaning: 'the LRS\'s Basic key (with IRLAB_XAPI_SECRET); never logged' },
  IRLAB_XAPI_SECRET: { schema: text, default: 'unset', meaning: 'the LRS\'s Basic secret (with IRLAB_XAPI_KEY); never logged' },
  IRLAB_XAPI_AUTH: { schema: text, default: 'unset', meaning: 'instead of key and secret: the whole Authorization header value (`Basic …`) the LRS gave' },
  IRLAB_XAPI_BATCH: { schema: whole(50, 1, 500), default: '50', meaning: 'statements sent in one request' },
  IRLAB_XAPI_TIMEOUT_SECONDS: { schema: whole(30, 1, 600), default: '30', meaning: 'an LRS request without an answer this long is retried' },
  IRLAB_XAPI_RETRY_MIN_MS: { schema: whole(1000, 1, 3_600_000), default: '1000', meaning: 'first wait after the LRS failed (doubled per failure, with jitter)' },
  IRLAB_XAPI_RETRY_MAX_MS: { schema: whole(300_000, 1, 24 * 3_600_000), default: '300000', meaning: 'longest wait between tries while the LRS is down' },
  IRLAB_OIDC_ISSUER: { schema: httpUrl, default: 'unset', meaning: 'the OpenID Connect provider learners sign in with (its issuer URL, e.g. https://accounts.google.com); unset: no sign-in is offered' },
  IRLAB_OIDC_CLIENT_ID: { schema: text, default: 'unset', meaning: 'irlab\'s client id at that provider (redirect URI: IRLAB_PUBLIC_URL + /auth/callback)' },
  IRLAB_OIDC_CLIENT_SECRET: { schema: text, default: 'unset', meaning: 'its client secret (never logged or shown); unset: a public client with PKCE only' },
  IRLAB_OIDC_SCOPES: { schema: text, default: 'openid email profile', meaning: 'the scopes asked for (openid is always included)' },
  IRLAB_LTI_PLATFORMS: { schema: ltiPlatforms, default: 'unset', meaning: 'a YAML or JSON file of the LMS platforms irlab is registered with as an LTI 1.3 tool (docs/classes.md, `## LTI 1.3`); unset: LTI off' },
  IRLAB_CELL_FORWARD_KEY: { schema: checkedBy(forwardKeyFrom), default: 'unset', meaning: 'fronts and cells (docs/deploy.md, in progress): the key, shared by all of them, that signs a proxied request\'s `x-irlab-forward` header; at least 32 characters (`openssl rand -base64 48`); never logged' },
  IRLAB_ROLE: { schema: oneOf(['all', 'front', 'cell'], 'all'), default: 'all', meaning: 'what this process is (docs/deploy.md, "Fronts and cells"): `all`, everything in one process; `front`, pages, APIs, sign-in and placement, proxying each learner\'s lab and terminal to their cell; `cell`, the clusters and terminals, reached only through fronts. `front` and `cell` need IRLAB_DATABASE_URL and IRLAB_CELL_FORWARD_KEY' },
  IRLAB_CELL_ID: { schema: text, default: 'the host name', meaning: 'a cell\'s name in the registry (letters, digits, `_`, `.`, `:`, `-`; a StatefulSet pod\'s name fits); stable across restarts' },
  IRLAB_CELL_URL: { schema: httpUrl, default: 'unset', meaning: 'a cell: the http(s) URL fronts reach it at (http://cell-0.cells:4321); required with IRLAB_ROLE=cell' },
  IRLAB_CELL_CAPACITY: { schema: whole(20, 0, 10_000), default: '20', meaning: 'a cell: how many learners it hosts at once (slots in the registry)' },
  IRLAB_CELL_HEARTBEAT_SECONDS: { schema: whole(5, 1, 600), default: '5', meaning: 'a cell heartbeats this often; fronts place only on cells heard from within 3 heartbeats' },
  IRLAB_CELL_DRAIN_SECONDS: { schema: whole(0, 0, 86_400), default: '0', meaning: 'a cell told to stop (SIGTERM) takes no new learners and waits up to this long for its learners to finish (their lab runs end, their shells close) before it leaves and stops their clusters; 0 leaves at once (they start again on another cell, progress kept). A second signal cuts the wait short' },
  IRLAB_CELL_EXPIRE_SECONDS: { schema: whole(45, 3, 3600), default: '45', meaning: 'fronts mark a cell silent this long gone, its learners\' placements lost (they start again on another cell, progress kept); at least 3 heartbeats' },
  IRLAB_TRUST_PROXY: { schema: flag, default: '0', meaning: '1: irlab is behind one reverse proxy it trusts (an Ingress terminating TLS): X-Forwarded-Proto says https (cookies get `Secure`) and the last X-Forwarded-For entry is the client address budgets charge' },
  IRLAB_TERMINAL_CLUSTER: { schema: oneOf(['engine', 'none'], 'engine'), default: 'engine', meaning: 'what a terminal without a lab gets: a cluster of its own (`engine`) or none' },
  IRLAB_TERMINAL_KUBECONFIG: { schema: text, default: 'unset', meaning: 'every terminal without a lab shares this kubeconfig (demos only, never untrusted learners)' },
  IRLAB_TERMINAL_GRACE_SECONDS: { schema: whole(600, 1, 7 * 24 * 3600), default: '600', meaning: 'a detached terminal session is kept this long' },
  IRLAB_TERMINAL_TTL_SECONDS: { schema: whole(4 * 3600, 60, 30 * 24 * 3600), default: '14400', meaning: 'a terminal session ends after this long, attached or not' },
  IRLAB_TERMINAL_NETWORK: { schema: oneOf(['isolated', 'host'], 'isolated'), default: 'isolated', meaning: 'the shell\'s network: its own namespace reaching only its API server, or the host\'s (tests)' },
  IRLAB_DRILL_SCORE_SECONDS: { schema: whole(10, 2, 3600), default: '10', meaning: 'how often a live drill\'s scoreboard checks run' },
  IRLAB_DRILL_MAX_LIVE: { schema: whole(10, 1, 1000), default: '10', meaning: 'drills not ended at once' },
  IRLAB_WARM_POOL_SIZE: { schema: whole(1, 0, 50), default: '1', meaning: 'ready clusters the warm pool keeps (0: create on claim)' },
  IRLAB_WARM_POOL_IDLE_TTL_SECONDS: { schema: whole(1800, 10, 7 * 24 * 3600), default: '1800', meaning: 'a ready cluster unclaimed this long is replaced' },
  IRLAB_WATCHDOG_SECONDS: { schema: whole(5, 0, 3600), default: '5', meaning: 'how often the pool\'s clusters\' processes are looked at (0: no watchdog, a dead component stays dead)' },
  IRLAB_WATCHDOG_READYZ_SECONDS: { schema: whole(30, 1, 3600), default: '30', meaning: 'how often each pool cluster\'s /readyz is asked' },
  IRLAB_WARM_POOL_MAX: { schema: whole(20, 0, 1000), default: '20', meaning: 'the most ready clusters one warm pool (one cell, or the one process) holds when classes are due (docs/deploy.md, "Warm pools sized from expected attendance"); below IRLAB_WARM_POOL_SIZE counts as IRLAB_WARM_POOL_SIZE' },
  IRLAB_WARM_FRACTION: { schema: whole(80, 0, 100), default: '80', meaning: 'percent of a due class\'s expected learners kept warm (ready clusters), less those already started; 0 turns sizing from classes off' },
  IRLAB_WARM_LEAD_MINUTES: { schema: whole(20, 0, 240), default: '20', meaning: 'how long before a class starts its clusters are made ready (a 2-core cell makes about one every few seconds, one at a time)' },
  IRLAB_CLASS_MAX_EXPECTED: { schema: whole(1000, 1, 10_000), default: '1000', meaning: 'the most learners an instructor may say a class expects' },
  IRLAB_LAB_PREPARED: { schema: whole(1, 0, 10), default: '1', meaning: 'incidents each lab keeps seeded ahead of time (0: off)' },
  IRLAB_LAB_ENGINE: { schema: oneOf(['embedded', 'kind'], 'embedded'), default: 'embedded', meaning: 'the engine labs run on: embedded (simulated pods, a warm pool) or kind (real containers and enforced NetworkPolicy; each learner gets a bounded credential of their own, never the cluster\'s admin; needs `irlab engine build --kind`)' },
  IRLAB_LAB_SESSION_MINUTES: { schema: whole(120, 1, 7 * 24 * 60), default: '120', meaning: 'a lab run ends this long after its start (its cluster given back, progress and notes kept) unless extended' },
  IRLAB_LAB_EXTEND_MINUTES: { schema: whole(30, 1, 7 * 24 * 60), default: '30', meaning: 'what one press of Extend adds to a lab run' },
  IRLAB_LAB_MAX_MINUTES: { schema: whole(240, 1, 30 * 24 * 60), default: '240', meaning: 'a lab run\'s longest length, extensions included; at most IRLAB_TERMINAL_TTL_SECONDS (the shell would end first)' },
  IRLAB_SCENARIO_TIME_SCALE: { schema: scale(1), default: '1', meaning: 'how much of a timeline\'s pauses seeding really waits (tests: 0.002)' },
  IRLAB_SCENARIO_WAITING_TIME_SCALE: { schema: scale(0.02), default: '0.02', meaning: 'the same for a seeding somebody waits for (a Start with none ready, a new drill)' },
  IRLAB_LIMIT_STARTS_PER_LEARNER: { schema: whole(6, 0), default: '6', meaning: 'cluster starts per learner per window (0: no limit)' },
  IRLAB_LIMIT_STARTS_PER_ADDRESS: { schema: whole(20, 0), default: '20', meaning: 'cluster starts per client address per window' },
  IRLAB_LIMIT_STARTS_WINDOW_SECONDS: { schema: whole(600, 1), default: '600', meaning: 'the cluster-start window' },
  IRLAB_LIMIT_CHECKS_PER_LEARNER: { schema: whole(30, 0), default: '30', meaning: 'lab checks per learner per window' },
  IRLAB_LIMIT_CHECKS_PER_ADDRESS: { schema: whole(300, 0), default: '300', meaning: 'lab checks per client address per window' },
  IRLAB_LIMIT_CHECKS_WINDOW_SECONDS: { schema: whole(60, 1), default: '60', meaning: 'the lab-check window' },
  IRLAB_LIMIT_QUERIES_PER_LEARNER: { schema: whole(2, 0), default: '2', meaning: 'queries running at once per learner' },
  IRLAB_LIMIT_QUERIES_PER_ADDRESS: { schema: whole(8, 0), default: '8', meaning: 'queries running at once per client address' },
  IRLAB_LIMIT_JOINS_PER_LEARNER: { schema: whole(10, 0), default: '10', meaning: 'class join attempts (code typed) per learner per window: guessing join codes' },
  IRLAB_LIMIT_JOINS_PER_ADDRESS: { schema: whole(60, 0), default: '60', meaning: 'class join attempts per client address per window (a classroom shares one address)' },
  IRLAB_LIMIT_JOINS_WINDOW_SECONDS: { schema: whole(600, 1), default: '600', meaning: 'the class-join window' },
  IRLAB_QUERY_BUDGET_SECONDS: { schema: whole(5, 1), default: '5', meaning: 'a query running longer is stopped' },
  IRLAB_QUERY_WORKERS: { schema: whole(Math.max(1, availableParallelism() - 1), 1), default: 'cores − 1', meaning: 'query worker threads' },
  IRLAB_QUERY_QUEUE: { schema: whole(16, 0), default: '16', meaning: 'queries waiting for a worker' },
  IRLAB_QUERY_WORKER_MEMORY_MB: { schema: whole(512, 64), default: '512', meaning: 'heap of one query worker' },
  IRLAB_AUDIT_LOG: { schema: text, default: 'unset', meaning: 'an audit log file offered to the query panel as a source' },
  IRLAB_SANDBOX_UIDS: { schema: checkedBy(parseUidRange), default: '200000-299999', meaning: 'host uids, one per shell session (when running as root)' },
  IRLAB_UID_CLAIMS_DIR: { schema: text, default: '/run/irlab/uids', meaning: 'where uid claims are recorded' },
  IRLAB_SHELL_CGROUPS: { schema: oneOf(['auto', 'off'], 'auto'), default: 'auto', meaning: 'a cgroup per shell with the limits below, or none (`off`)' },
  IRLAB_SHELL_PIDS_MAX: { schema: whole(256, 1, 4_194_304), default: '256', meaning: 'processes per shell' },
  IRLAB_SHELL_MEMORY_MB: { schema: whole(512, 1, 1 << 30), default: '512', meaning: 'memory per shell (no swap on top)' },
  IRLAB_SHELL_CPU_WEIGHT: { schema: whole(100, 1, 10_000), default: '100', meaning: 'CPU weight per shell (cgroup v2 scale: 100 is an equal share)' },
  IRLAB_WORKSPACE_MB: { schema: checkedBy((raw) => workspaceBytesFromEnv({ IRLAB_WORKSPACE_MB: raw })), default: '256', meaning: 'size of each workspace filesystem (0: unlimited)' },
  IRLAB_BWRAP: { schema: text, default: '/usr/bin/bwrap', meaning: 'the bubblewrap binary' },
  IRLAB_KUBECTL: { schema: text, default: 'the engine\'s kubectl', meaning: 'the kubectl shells get' },
  IRLAB_PROVIDER: { schema: oneOf(['auto', ...PROVIDER_NAMES], 'auto'), default: 'auto', meaning: 'cluster engine: auto, embedded or kind' },
  IRLAB_KIND_NODE_IMAGE: { schema: text, default: 'the pinned kindest/node', meaning: 'node image for kind clusters' },
  IRLAB_ENGINE_DIR: { schema: text, default: 'engine/', meaning: 'the engine sources (versions.env, podsandbox)' },
  IRLAB_CACHE: { schema: text, default: '~/.cache/irlab', meaning: 'where the engine\'s binaries are built and kept' },
  IRLAB_ENGINE_BUILD: { schema: oneOf(['auto', 'off'], 'off'), default: 'off (`npm start`: auto)', meaning: 'auto: build a missing or stale engine in the background, with progress on the console and on lab and terminal pages; off: only look' },
  IRLAB_ENGINE_REPORT_SECONDS: { schema: whole(30, 1, 3600), default: '30', meaning: 'seconds between the engine build\'s progress lines on the console' },
  IRLAB_ENGINE_TUNING: { schema: oneOf(['lean', 'none'], 'lean'), default: 'lean', meaning: 'lean: the embedded control plane tuned for small memory; none: as upstream' },
} as const;

type Settings = typeof SETTINGS;
export type RawConfig = { [K in keyof Settings]: z.output<Settings[K]['schema']> };

/** One problem with one variable: the variable, its value, what is wrong and how to fix it. */
export interface ConfigProblem {
  variable: string;
  value: string | undefined;
  message: string;
}

export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super(`${problems.length === 1 ? 'one setting is' : `${problems.length} settings are`} invalid:\n${problems.map((p) => `  ${p.variable}=${JSON.stringify(p.value)} ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** IRLAB_DATABASE_URL: PostgreSQL holds the store; undefined: SQLite under dataDir. */
  databaseUrl: string | undefined;
  contentRoot: string;
  contentLive: boolean;
  instructorToken: string | undefined;
  trustProxy: boolean;
  /** IRLAB_LTI_PLATFORMS: the LMS platforms registered (LTI 1.3); undefined when LTI is off. */
  lti: { file: string; platforms: Platform[] } | undefined;
  /** IRLAB_PUBLIC_URL, else `http://<host>:<port>`: where browsers and LMSs reach this server. */
  publicUrl: string;
  /** The LRS statements go to; absent when IRLAB_XAPI_ENDPOINT is unset (then no outbox work at all). */
  xapi: LrsConfig | undefined;
  terminal: { cluster: 'engine' | 'none'; kubeconfig: string | undefined; graceMs: number; ttlMs: number };
  drills: { scoreMs: number; maxLive: number };
  /** `watchdog` is absent when IRLAB_WATCHDOG_SECONDS=0. */
  pool: { size: number; idleTtlMs: number; stateDir: string; watchdog?: { intervalMs: number; readyzEveryMs: number } };
  /** Warm pools sized from the classes due (cells/warm-plan.ts); fraction 0..1. */
  warmPlan: { ceiling: number; fraction: number; leadMs: number; maxExpected: number };
  labs: { engine: 'embedded' | 'kind'; preparedPerLab: number; timeLimit: { sessionMinutes: number; extendMinutes: number; maxMinutes: number } };
  limits: LimitsConfig;
  query: { budgetSeconds: number; workers: number; queue: number; memoryMb: number; auditLog: string | undefined };
  engine: EngineBuildConfig;
  /** OpenID Connect sign-in; undefined when IRLAB_OIDC_ISSUER is unset (no sign-in offered). */
  oidc: { issuer: string; clientId: string; clientSecret: string | undefined; scopes: string } | undefined;
  /** Fronts and cells: the shared key of the forwarded-request header (IRLAB_CELL_FORWARD_KEY); undefined when unset. */
  cells: CellsConfig;
  /** The environment it was read from: leaves that read their own variable (sandbox, engine) get it. */
  env: Env;
  raw: RawConfig;
}

export type ServerRole = 'all' | 'front' | 'cell';

/** Fronts and cells: this process's role and what it needs for it. */
export interface CellsConfig {
  role: ServerRole;
  /** The shared key of the forwarded-request header (IRLAB_CELL_FORWARD_KEY); always set for a front or a cell. */
  forwardKey: Buffer | undefined;
  /** This cell's id, URL and capacity (a cell), and the heartbeat and expiry every role uses. */
  id: string;
  url: string | undefined;
  capacity: number;
  heartbeatMs: number;
  expireAfterMs: number;
  /** How long a stopping cell waits for its learners to finish (IRLAB_CELL_DRAIN_SECONDS). */
  drainMs: number;
}

const CELL_ID = /^[\w.:-]{1,128}$/;

/** A front or a cell shares state and trust with the others: without the database or the key it would be a lone process. */
function cellsConfig(r: RawConfig, env: Env): CellsConfig {
  const role = r.IRLAB_ROLE;
  const id = (r.IRLAB_CELL_ID ?? hostname()).trim();
  const problems: ConfigProblem[] = [];
  if (role !== 'all') {
    if (!r.IRLAB_DATABASE_URL) problems.push({ variable: 'IRLAB_DATABASE_URL', value: undefined, message: `is unset, and IRLAB_ROLE=${role} shares its state with the other fronts and cells through PostgreSQL; set it to the same postgres:// URL on every front and cell, or set IRLAB_ROLE=all for one process` });
    if (!r.IRLAB_CELL_FORWARD_KEY) problems.push({ variable: 'IRLAB_CELL_FORWARD_KEY', value: undefined, message: `is unset, and IRLAB_ROLE=${role} needs it to sign (front) or check (cell) proxied requests; set the same random word of at least 32 characters on every front and cell (\`openssl rand -base64 48\`)` });
  }
  if (role === 'cell') {
    if (!r.IRLAB_CELL_URL) problems.push({ variable: 'IRLAB_CELL_URL', value: undefined, message: 'is unset, and a cell registers the URL fronts reach it at; set it to, for example, http://cell-0.cells:4321' });
    if (!CELL_ID.test(id)) problems.push({ variable: 'IRLAB_CELL_ID', value: env.IRLAB_CELL_ID, message: 'is not a cell id (1 to 128 letters, digits, "_", ".", ":" or "-"); set it to, for example, cell-0' });
  }
  if (r.IRLAB_CELL_EXPIRE_SECONDS < 3 * r.IRLAB_CELL_HEARTBEAT_SECONDS) {
    problems.push({ variable: 'IRLAB_CELL_EXPIRE_SECONDS', value: env.IRLAB_CELL_EXPIRE_SECONDS, message: `is less than 3 heartbeats (IRLAB_CELL_HEARTBEAT_SECONDS=${r.IRLAB_CELL_HEARTBEAT_SECONDS}): a cell would be given up on between two heartbeats; set it to at least ${3 * r.IRLAB_CELL_HEARTBEAT_SECONDS}` });
  }
  if (problems.length) throw new ConfigError(problems);
  return {
    role,
    forwardKey: forwardKeyFrom(r.IRLAB_CELL_FORWARD_KEY),
    id,
    url: r.IRLAB_CELL_URL?.replace(/\/+$/, ''),
    capacity: r.IRLAB_CELL_CAPACITY,
    heartbeatMs: r.IRLAB_CELL_HEARTBEAT_SECONDS * 1000,
    expireAfterMs: r.IRLAB_CELL_EXPIRE_SECONDS * 1000,
    drainMs: r.IRLAB_CELL_DRAIN_SECONDS * 1000,
  };
}

const schema = z.object(Object.fromEntries(Object.entries(SETTINGS).map(([name, setting]) => [name, setting.schema])) as { [K in keyof Settings]: Settings[K]['schema'] });

/** Reads every setting from `env`; throws one ConfigError listing every problem. */
export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const parsed = schema.safeParse(Object.fromEntries(Object.keys(SETTINGS).map((name) => [name, env[name]])));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const variable = String(issue.path[0]);
      return { variable, value: shownValue(variable, env[variable]), message: issue.message };
    });
    throw new ConfigError(problems);
  }
  const r = parsed.data as RawConfig;
  // A run longer than its shell's life would outlive the terminal the learner works in.
  if (r.IRLAB_LAB_MAX_MINUTES * 60 > r.IRLAB_TERMINAL_TTL_SECONDS) {
    throw new ConfigError([
      {
        variable: 'IRLAB_LAB_MAX_MINUTES',
        value: env.IRLAB_LAB_MAX_MINUTES,
        message: `is longer than a terminal session lives (IRLAB_TERMINAL_TTL_SECONDS=${r.IRLAB_TERMINAL_TTL_SECONDS}, ${r.IRLAB_TERMINAL_TTL_SECONDS / 60} minutes); set it to at most ${Math.floor(r.IRLAB_TERMINAL_TTL_SECONDS / 60)}, or raise IRLAB_TERMINAL_TTL_SECONDS`,
      },
    ]);
  }
  const xapi = xapiConfig(r, env);
  // The issuer and the client id go together; the secret's value is never echoed in a problem.
  if (Boolean(r.IRLAB_OIDC_ISSUER) !== Boolean(r.IRLAB_OIDC_CLIENT_ID?.trim()) || (r.IRLAB_OIDC_CLIENT_SECRET && !r.IRLAB_OIDC_ISSUER)) {
    const missing = r.IRLAB_OIDC_ISSUER ? 'IRLAB_OIDC_CLIENT_ID' : 'IRLAB_OIDC_ISSUER';
    throw new ConfigError([
      { variable: missing, value: undefined, message: `is unset while other IRLAB_OIDC_* settings are set; set IRLAB_OIDC_ISSUER and IRLAB_OIDC_CLIENT_ID together (and IRLAB_OIDC_CLIENT_SECRET for a confidential client), or unset them all` },
    ]);
  }
  const scopes = new Set((r.IRLAB_OIDC_SCOPES ?? 'openid email profile').split(/[\s,]+/).filter(Boolean));
  scopes.add('openid');
  const dataDir = path.resolve(cwd, r.IRLAB_DATA_DIR ?? '.irlab/data');
  return {
    port: r.PORT,
    host: r.HOST ?? 'localhost',
    dataDir,
    databaseUrl: r.IRLAB_DATABASE_URL,
    contentRoot: path.resolve(cwd, r.IRLAB_ROOT ?? '.'),
    contentLive: r.IRLAB_CONTENT_LIVE,
    instructorToken: r.IRLAB_INSTRUCTOR_TOKEN?.trim(),
    trustProxy: r.IRLAB_TRUST_PROXY,
    lti: r.IRLAB_LTI_PLATFORMS,
    publicUrl: r.IRLAB_PUBLIC_URL ?? `http://${r.HOST ?? 'localhost'}:${r.PORT}`,
    xapi,
    oidc: r.IRLAB_OIDC_ISSUER && r.IRLAB_OIDC_CLIENT_ID ? { issuer: r.IRLAB_OIDC_ISSUER, clientId: r.IRLAB_OIDC_CLIENT_ID.trim(), clientSecret: r.IRLAB_OIDC_CLIENT_SECRET, scopes: [...scopes].join(' ') } : undefined,
    terminal: { cluster: r.IRLAB_TERMINAL_CLUSTER, kubeconfig: r.IRLAB_TERMINAL_KUBECONFIG, graceMs: r.IRLAB_TERMINAL_GRACE_SECONDS * 1000, ttlMs: r.IRLAB_TERMINAL_TTL_SECONDS * 1000 },
    drills: { scoreMs: r.IRLAB_DRILL_SCORE_SECONDS * 1000, maxLive: r.IRLAB_DRILL_MAX_LIVE },
    pool: {
      size: r.IRLAB_WARM_POOL_SIZE,
      idleTtlMs: r.IRLAB_WARM_POOL_IDLE_TTL_SECONDS * 1000,
      stateDir: path.join(dataDir, 'cluster-pool'),
      ...(r.IRLAB_WATCHDOG_SECONDS === 0 ? {} : { watchdog: { intervalMs: r.IRLAB_WATCHDOG_SECONDS * 1000, readyzEveryMs: r.IRLAB_WATCHDOG_READYZ_SECONDS * 1000 } }),
    },
    warmPlan: { ceiling: r.IRLAB_WARM_POOL_MAX, fraction: r.IRLAB_WARM_FRACTION / 100, leadMs: r.IRLAB_WARM_LEAD_MINUTES * 60_000, maxExpected: r.IRLAB_CLASS_MAX_EXPECTED },
    labs: {
      engine: r.IRLAB_LAB_ENGINE,
      preparedPerLab: r.IRLAB_LAB_PREPARED,
      timeLimit: { sessionMinutes: Math.min(r.IRLAB_LAB_SESSION_MINUTES, r.IRLAB_LAB_MAX_MINUTES), extendMinutes: r.IRLAB_LAB_EXTEND_MINUTES, maxMinutes: r.IRLAB_LAB_MAX_MINUTES },
    },
    limits: {
      startsPerLearner: r.IRLAB_LIMIT_STARTS_PER_LEARNER,
      startsPerAddress: r.IRLAB_LIMIT_STARTS_PER_ADDRESS,
      startsWindowSeconds: r.IRLAB_LIMIT_STARTS_WINDOW_SECONDS,
      checksPerLearner: r.IRLAB_LIMIT_CHECKS_PER_LEARNER,
      checksPerAddress: r.IRLAB_LIMIT_CHECKS_PER_ADDRESS,
      checksWindowSeconds: r.IRLAB_LIMIT_CHECKS_WINDOW_SECONDS,
      queriesPerLearner: r.IRLAB_LIMIT_QUERIES_PER_LEARNER,
      queriesPerAddress: r.IRLAB_LIMIT_QUERIES_PER_ADDRESS,
      joinsPerLearner: r.IRLAB_LIMIT_JOINS_PER_LEARNER,
      joinsPerAddress: r.IRLAB_LIMIT_JOINS_PER_ADDRESS,
      joinsWindowSeconds: r.IRLAB_LIMIT_JOINS_WINDOW_SECONDS,
    },
    engine: { mode: r.IRLAB_ENGINE_BUILD, reportSeconds: r.IRLAB_ENGINE_REPORT_SECONDS },
    cells: cellsConfig(r, env),
    query: { budgetSeconds: r.IRLAB_QUERY_BUDGET_SECONDS, workers: r.IRLAB_QUERY_WORKERS, queue: r.IRLAB_QUERY_QUEUE, memoryMb: r.IRLAB_QUERY_WORKER_MEMORY_MB, auditLog: r.IRLAB_AUDIT_LOG },
    // Leaves read the data dir from the environment too: give them the resolved one.
    env: { ...env, IRLAB_DATA_DIR: dataDir },
    raw: r,
  };
}

/**
 * The LRS settings, or undefined without an endpoint. Problems name the variables but never show
 * a key, secret or Authorization value (ConfigError prints values).
 */
const SECRET_SETTINGS = new Set(['IRLAB_XAPI_KEY', 'IRLAB_XAPI_SECRET', 'IRLAB_XAPI_AUTH', 'IRLAB_OIDC_CLIENT_SECRET', 'IRLAB_CELL_FORWARD_KEY']);

/** A value as a problem may show it: secrets hidden, a password written into a URL replaced. */
function shownValue(variable: string, value: string | undefined): string | undefined {
  if (value === undefined || value === '') return value;
  if (SECRET_SETTINGS.has(variable)) return '(hidden)';
  if (variable === 'IRLAB_XAPI_ENDPOINT') return value.replace(/\/\/[^/@]*@/, '//(hidden)@');
  if (variable === 'IRLAB_DATABASE_URL') return value.replace(/\/\/[^/@]*@/, '//(hidden)@').replace(/([?&]password=)[^&]*/gi, '$1(hidden)');
  return value;
}

function xapiConfig(r: RawConfig, env: Env): LrsConfig | undefined {
  const key = r.IRLAB_XAPI_KEY?.trim();
  const secret = r.IRLAB_XAPI_SECRET?.trim();
  const auth = r.IRLAB_XAPI_AUTH?.trim();
  const problem = (variable: string, message: string): never => {
    throw new ConfigError([{ variable, value: shownValue(variable, env[variable]), message }]);
  };
  if (!r.IRLAB_XAPI_ENDPOINT) {
    if (key || secret || auth) problem('IRLAB_XAPI_ENDPOINT', 'is unset while LRS credentials are set; set it to the LRS\'s xAPI base (e.g. https://lrs.example.org/xapi), or unset IRLAB_XAPI_KEY, IRLAB_XAPI_SECRET and IRLAB_XAPI_AUTH');
    return undefined;
  }
  if (auth && (key || secret)) problem('IRLAB_XAPI_AUTH', 'is set together with IRLAB_XAPI_KEY/IRLAB_XAPI_SECRET; keep one: the key and secret, or the whole Authorization value');
  if (!auth && (!key || !secret)) problem(key ? 'IRLAB_XAPI_SECRET' : 'IRLAB_XAPI_KEY', 'is unset while IRLAB_XAPI_ENDPOINT is set; set IRLAB_XAPI_KEY and IRLAB_XAPI_SECRET to the key and secret the LRS gave irlab (or IRLAB_XAPI_AUTH to the whole Authorization value)');
  if (key?.includes(':')) problem('IRLAB_XAPI_KEY', 'contains ":", which Basic authentication cannot carry in a key; check the value the LRS gave');
  if (r.IRLAB_XAPI_RETRY_MIN_MS > r.IRLAB_XAPI_RETRY_MAX_MS) problem('IRLAB_XAPI_RETRY_MIN_MS', `is more than IRLAB_XAPI_RETRY_MAX_MS (${r.IRLAB_XAPI_RETRY_MAX_MS}); set it lower, or raise the maximum`);
  return {
    endpoint: r.IRLAB_XAPI_ENDPOINT,
    authorization: auth ?? `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`,
    batchSize: r.IRLAB_XAPI_BATCH,
    timeoutMs: r.IRLAB_XAPI_TIMEOUT_SECONDS * 1000,
    retryMinMs: r.IRLAB_XAPI_RETRY_MIN_MS,
    retryMaxMs: r.IRLAB_XAPI_RETRY_MAX_MS,
  };
}

/** The config table of docs/configuration.md, generated from SETTINGS. */
export function configurationTable(): string {
  const rows = Object.entries(SETTINGS).map(([name, s]) => `| \`${name}\` | ${s.default} | ${s.meaning} |`);
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}
