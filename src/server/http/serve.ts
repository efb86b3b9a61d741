/**
 * The irlab server: one Node HTTP server that puts irlab's own routes (the terminal's and the
 * drills' endpoints and WebSockets) in front of Astro's built handler. Astro's Node adapter has no WebSocket hook, so
 * the adapter's standalone *handler* (pages, endpoints and static files) is mounted here with
 * autostart disabled, and `upgrade` requests are ours.
 *
 * Run: `node src/server/http/serve.ts` after `astro build` (scripts/start.ts does both).
 * Env: PORT (4321), HOST (localhost), IRLAB_DATA_DIR (.irlab/data),
 * IRLAB_TERMINAL_CLUSTER (`engine`, the default: a cluster of its own per terminal session from
 * the cluster engine; `none`: a shell without a cluster), IRLAB_TERMINAL_KUBECONFIG (instead,
 * every terminal gets a copy of this kubeconfig), IRLAB_TERMINAL_GRACE_SECONDS (600),
 * IRLAB_TERMINAL_TTL_SECONDS (14400), IRLAB_DRILL_SCORE_SECONDS (10: how often a drill's
 * scoreboard checks run), IRLAB_DRILL_MAX_LIVE (10: drills not ended at once),
 * IRLAB_WARM_POOL_SIZE (1) and IRLAB_WARM_POOL_IDLE_TTL_SECONDS (1800) for the warm pool filled
 * at boot, IRLAB_LAB_PREPARED (1: incidents each lab keeps seeded ahead of time),
 * IRLAB_SCENARIO_TIME_SCALE (1: how much of a scenario's minutes of dwell time seeding really
 * waits; tests use 0.002), IRLAB_SCENARIO_WAITING_TIME_SCALE (0.02: the same for a seeding somebody
 * waits for, a Start with no incident ready or a new drill).
 * Budgets per learner shell (docs/terminal.md, "Budgets"): IRLAB_SANDBOX_UIDS (200000-299999: a
 * host uid of its own per session when running as root), IRLAB_UID_CLAIMS_DIR (/run/irlab/uids),
 * IRLAB_SHELL_CGROUPS (auto; off), IRLAB_SHELL_PIDS_MAX (256), IRLAB_SHELL_MEMORY_MB (512, no swap
 * on top), IRLAB_SHELL_CPU_WEIGHT (100, the v2 scale: an equal share), IRLAB_WORKSPACE_MB (256: each
 * workspace a loop-mounted filesystem of that size; 0 = unlimited). What the host cannot enforce is
 * logged once at start.
 * Budgets per learner and address (IRLAB_LIMIT_*) and of queries (IRLAB_QUERY_*): docs/security.md.
 * IRLAB_TRUST_PROXY (unset: X-Forwarded-Proto is ignored; 1: a reverse proxy terminating TLS sets
 * it, and cookies get `Secure` when it says https).
 *
 * No input ends the process: every request and upgrade handler runs guarded (an exception is
 * logged on one line and answered 500 with a reason, or the socket closed), every socket has an
 * error listener, and a bad WebSocket frame closes only its socket (ws-safety.ts).
 */
import { existsSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { selectProvider } from '../cluster/select-provider.ts';
import { EmbeddedProvider } from '../cluster/embedded-provider.ts';
import { serverPool, shutdownServerPool } from '../cluster/server-pool.ts';
import { learnerService, SESSION_COOKIE, SESSION_MAX_AGE_SECONDS } from '../learners/learners.ts';
import { dataDir as storeDataDir, getStore } from '../store/index.ts';
import { engineClusters, noCluster, sharedKubeconfig, type LeaseCluster } from '../terminal/cluster-source.ts';
import { getLabService } from '../lab/instance.ts';
import { spawnNodePty } from '../terminal/node-pty-spawn.ts';
import { prepareSandboxHost, SandboxUnavailableError, type SandboxHost } from '../terminal/sandbox-host.ts';
import { TerminalManager } from '../terminal/session-manager.ts';
import { createTerminalRoutes, readCookie, type AdmitNewSession, type Identify } from './terminal-routes.ts';
import { requestAddress } from './client-address.ts';
import { serverLimits } from '../limits/server-limits.ts';
import { queryPoolConfig } from '../query/query-pool.ts';
import { getDrillService } from '../drill/instance.ts';
import { instructorToken } from '../instructors/token.ts';
import { createDrillRoutes } from './drill-routes.ts';
import { internalError, logUnexpected, MAX_BODY_BYTES, refuseBody, sendJson } from './endpoint.ts';
import { handleHealth } from './health.ts';
import { applySecurityHeaders, trustsProxy, validHost } from './security-headers.ts';
import { startEngineBuild } from '../cluster/engine-build.ts';
import { createEngineRoutes } from './engine-routes.ts';
import { refuseUpgrade } from './ws-safety.ts';

type NodeHandler = (req: IncomingMessage, res: ServerResponse, next?: () => void) => void;

const root = path.resolve(import.meta.dirname, '../../..');
const entry = path.join(root, 'dist/server/entry.mjs');
if (!existsSync(entry)) {
  console.error(`irlab: ${path.relative(process.cwd(), entry)} is missing; build first with \`npm run build\` (npm start builds for you).`);
  process.exit(1);
}

// The adapter starts its own server on import unless told not to.
process.env.ASTRO_NODE_AUTOSTART = 'disabled';
const { handler: astro } = (await import(pathToFileURL(entry).href)) as { handler: NodeHandler };
// The adapter listens for unhandled rejections, so they no longer end the process, but it logs
// only those raised while rendering a page: log the rest (a background task's), or they vanish.
// No such listener for uncaught exceptions: after one, the process's state is unknown; handlers
// catch their own (the request and upgrade handlers below, ws-safety.ts).
process.on('unhandledRejection', (reason) => logUnexpected('a background task', reason));

const dataDir = storeDataDir();
let host: SandboxHost | null = null;
try {
  host = prepareSandboxHost(dataDir);
} catch (error) {
  if (!(error instanceof SandboxUnavailableError)) throw error;
  // The site still serves; the terminal answers every request with this message and its fix.
  console.error(`irlab: the terminal is unavailable: ${error.message}`);
}
for (const problem of host?.budgets.problems ?? []) console.error(`irlab: terminal budgets: ${problem}`);
const kubeconfig = process.env.IRLAB_TERMINAL_KUBECONFIG;
let clusters = 'no cluster attached';
/** Whether a terminal session without a lab creates a cluster of its own (then it spends a cluster start). */
let clusterPerSession = false;
async function chooseClusters(): Promise<LeaseCluster> {
  if (kubeconfig) {
    clusters = `cluster from ${kubeconfig}`;
    console.warn(`irlab: IRLAB_TERMINAL_KUBECONFIG: every terminal without a lab shares ${kubeconfig} and its credential; use it for your own demo, never with untrusted learners`);
    return sharedKubeconfig(path.resolve(kubeconfig));
  }
  if ((process.env.IRLAB_TERMINAL_CLUSTER ?? 'engine') === 'none') return noCluster;
  // Decided again for every session: auto-selection picks kind only while its node image is
  // already in the engine, so a /terminal session never makes the server pull one.
  const choose = async () => {
    const { provider, reason } = await selectProvider();
    const available = await provider.available();
    if (available.ok) return { provider, reason };
    console.error(`irlab: this terminal gets no cluster: ${available.problems.join('; ')}`);
    return null;
  };
  const first = await selectProvider();
  clusters = `a cluster per session (chosen per session; now ${first.reason})`;
  clusterPerSession = true;
  return engineClusters(choose, (line) => console.log(`irlab terminal: ${line}`));
}
const fallbackLease = host ? await chooseClusters() : noCluster;

// A learner with a running lab gets a shell on that lab's cluster (the lab owns and deletes it);
// anyone else gets what chooseClusters decided.
const labs = getLabService();
const leaseCluster: LeaseCluster = async (owner) => {
  const lab = await labs.clusterFor(owner);
  if (lab) return { name: lab.name, kubeconfigPath: lab.kubeconfigPath, release: async () => {} };
  return fallbackLease(owner);
};
const wantedCluster = async (owner: string) => (await labs.clusterFor(owner))?.name;

// Fill the warm pool at boot, so that the first learner to press Start claims a ready cluster
// instead of waiting for etcd and the API server.
async function warmThePool(): Promise<void> {
  const available = await new EmbeddedProvider().available();
  if (!available.ok) return;
  const pool = await serverPool();
  console.log(`irlab: warm pool started (${pool.readyNames().length} ready; IRLAB_WARM_POOL_SIZE sets how many to keep)`);
  // Then seed incidents ahead of time (IRLAB_LAB_PREPARED per lab): Start waits for no seeding.
  await labs.prepareAll();
}
// The engine (IRLAB_ENGINE_BUILD=auto, as npm start sets): built in the background when missing
// or stale; the pool and the incident shelf start once it is ready, lab starts get a 503 till then.
const engine = startEngineBuild(process.env, (line) => console.log(line));
const engineRoutes = createEngineRoutes({ status: () => engine.status(), terminalNeedsEngine: () => clusterPerSession });
void engine.ready().then((ok) => (ok ? warmThePool() : undefined)).catch((error: unknown) => console.error(`irlab: the warm pool did not start: ${error instanceof Error ? error.message : String(error)}`));

// The learner is the one the learner session cookie names (shared with quizzes and labs).
const learners = learnerService({ store: getStore() });
const identify = ((req, options) => {
  const found = learners.fromSession(readCookie(req.headers.cookie, SESSION_COOKIE));
  if (found) return { id: found.id };
  if (!options.create) return undefined;
  const { learner, token } = learners.create();
  return { id: learner.id, setCookie: `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${SESSION_MAX_AGE_SECONDS}` };
}) as Identify;

const manager = host
  ? new TerminalManager({
      dataDir,
      host,
      spawnPty: spawnNodePty,
      leaseCluster,
      wantedCluster,
      graceMs: Number(process.env.IRLAB_TERMINAL_GRACE_SECONDS ?? 600) * 1000,
      ttlMs: Number(process.env.IRLAB_TERMINAL_TTL_SECONDS ?? 4 * 3600) * 1000,
    })
  : null;
manager?.startReaper(15_000);
// Workspaces are filesystems of their own: mount them now, so lab checks see them before a shell opens.
void manager
  ?.mountWorkspaces()
  .then((problems) => problems.forEach((problem) => console.error(`irlab: ${problem}`)))
  .catch((error: unknown) => console.error(`irlab: mounting the workspaces failed: ${String(error)}`));

// Drills: one service for the process (its scheduler starts here and re-arms live drills from
// the database); each participant's terminal is a session of this manager on the drill cluster.
const drills = getDrillService();
if (manager) {
  drills.setTerminals({
    open: async (owner, lease, principal, group) => {
      const session = await manager.open(owner, { cols: 80, rows: 24 }, { lease, principal, group });
      return { id: session.id, createdAt: session.createdAt };
    },
    closeGroup: async (group) => {
      for (const session of manager.list().filter((s) => s.group === group)) await manager.close(session.id, 'The drill ended.');
    },
    recordingPath: (id) => manager.recordingPath(id),
    workspaceDir: (owner) => manager.workspaceDir(owner),
  });
}
const drillRoutes = createDrillRoutes(drills, identify);
// A new terminal session that creates a cluster (no lab to attach to) spends a cluster start.
// These counts are this module copy's: Astro's bundle counts lab starts and drills on its own.
const limits = serverLimits();
queryPoolConfig(); // a bad IRLAB_QUERY_* stops the server here, not every query later
const admitNewSession: AdmitNewSession = async (req, learnerId) => {
  if (!clusterPerSession || (learnerId && (await labs.clusterFor(learnerId)))) return undefined;
  return limits.clusterStart({ learner: learnerId, address: requestAddress(req) });
};
const terminal = manager ? createTerminalRoutes(manager, identify, (learnerId, session) => drills.canWatch(learnerId, session.group), admitNewSession) : null;

// Settled now, so that this copy of the token module and Astro's never generate two different ones.
instructorToken();
const trustProxy = trustsProxy();

const server = http.createServer((req, res) => {
  try {
    applySecurityHeaders(req, res, { trustProxy });
    // Astro builds a URL from Host; one that is no host name would make that throw.
    if (!validHost(req.headers.host)) return sendJson(res, 400, { error: 'the Host header is not a host name (name or address, and an optional port)' }, { connection: 'close' });
    if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) return refuseBody(req, res);
    if (handleHealth(req, res, manager)) return;
    if (engineRoutes.handle(req, res)) return;
    if (terminal?.handle(req, res)) return;
    if (drillRoutes.handle(req, res)) return;
    if (!terminal && req.url?.startsWith('/api/terminal/')) {
      return sendJson(res, 503, { error: 'The terminal is unavailable on this server: bubblewrap or its sandbox user is missing. Run `bash scripts/ensure-system-packages.sh` as root and restart.' });
    }
    astro(req, res);
  } catch (error) {
    internalError(res, `${req.method} ${req.url?.slice(0, 200)}`, error);
  }
});
server.on('upgrade', (req, socket, head) => {
  // Until ws owns the socket, nobody listens for its errors: a reset would end the process.
  // A peer that went away needs no log line.
  socket.on('error', () => socket.destroy());
  try {
    if (!validHost(req.headers.host)) return refuseUpgrade(socket, 400, 'Bad Request');
    if (drillRoutes.upgrade(req, socket, head)) return;
    if (terminal?.upgrade(req, socket, head)) return;
    refuseUpgrade(socket, 404, 'Not Found');
  } catch (error) {
    logUnexpected(`the upgrade of ${req.url?.slice(0, 200)}`, error);
    refuseUpgrade(socket, 500, 'Internal Server Error');
  }
});

const port = Number(process.env.PORT ?? 4321);
const hostname = process.env.HOST ?? 'localhost';
server.listen(port, hostname, () => {
  console.log(`irlab: listening on http://${hostname}:${port} · terminal ${host ? `sandboxed (${host.budgets.uids ? `a uid per session from ${host.budgets.uids.range.first}-${host.budgets.uids.range.last}` : `${host.identity.mode}, uid ${host.identity.uid}`}${host.budgets.cgroups ? `, cgroup v${host.budgets.cgroups.version}` : ''}), ${clusters}` : 'unavailable'} · data in ${dataDir}`);
});

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`irlab: ${signal}: closing terminal sessions and stopping`);
  terminal?.close();
  drillRoutes.close();
  await engine.stop();
  await manager?.shutdown();
  await labs.close().catch(() => undefined);
  await shutdownServerPool().catch((error: unknown) => console.error(`irlab: deleting the warm pool's clusters failed: ${String(error)}`));
  server.close();
  server.closeAllConnections();
  process.exit(0);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stop(signal));
