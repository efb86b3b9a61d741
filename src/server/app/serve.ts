/**
 * The irlab server: `node src/server/app/serve.ts` after `astro build` (scripts/start.ts does
 * both). Reads the one configuration (config.ts: every variable, every problem at once, nothing
 * listens until it is valid; docs/configuration.md), builds the services once (services.ts),
 * and serves irlab's routes, dist/client and Astro's handler (middleware mode, the services as
 * `locals`) from one Node HTTP server (http-server.ts).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { logUnexpected } from '../http/endpoint.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { createIrlabServer, type AstroHandler } from './http-server.ts';
import { buildServices } from './services.ts';
import { cellMembership, frontUpkeep, placementKey } from '../cells/cell-membership.ts';
import type { Placement } from '../cells/registry.ts';
import { warmSizer } from '../cells/warm-sizer.ts';
import { staticFiles } from './static-files.ts';

const root = path.resolve(import.meta.dirname, '../../..');

let config: Config;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`irlab: ${error.message}\nirlab: docs/configuration.md lists every setting; fix the ones above and start again.`);
  process.exit(2);
}

const entry = path.join(root, 'dist/server/entry.mjs');
if (!existsSync(entry)) {
  console.error(`irlab: ${path.relative(process.cwd(), entry)} is missing; build first with \`npm run build\` (npm start builds for you).`);
  process.exit(1);
}
const { handler: astro } = (await import(pathToFileURL(entry).href)) as { handler: AstroHandler };
// The adapter listens for unhandled rejections, so they no longer end the process, but it logs
// only those raised while rendering a page: log the rest (a background task's), or they vanish.
// No such listener for uncaught exceptions: after one, the process's state is unknown; handlers
// catch their own (http-server.ts, ws-safety.ts).
process.on('unhandledRejection', (reason) => logUnexpected('a background task', reason));

const services = await buildServices(config);
const { terminals: manager, sandbox: host } = services;
if (services.terminalProblem && !host) console.error(`irlab: the terminal is unavailable: ${services.terminalProblem}`);
for (const problem of host?.budgets.problems ?? []) console.error(`irlab: terminal budgets: ${problem}`);
manager?.startReaper(15_000);
// Workspaces are filesystems of their own: mount them now, so lab checks see them before a shell opens.
void manager
  ?.mountWorkspaces()
  .then((problems) => problems.forEach((problem) => console.error(`irlab: ${problem}`)))
  .catch((error: unknown) => console.error(`irlab: mounting the workspaces failed: ${String(error)}`));
// Fill the warm pool at boot, so that the first learner to press Start claims a ready cluster
// instead of waiting for etcd and the API server.
void services.warm().catch((error: unknown) => console.error(`irlab: the warm pool did not start: ${error instanceof Error ? error.message : String(error)}`));

const files = staticFiles({ clientDir: path.join(root, 'dist/client'), headersFile: path.join(root, 'dist/_headers.json') });
const { server, closeRoutes } = createIrlabServer(services, astro, files);

// A cell joins the registry once it listens (fronts may place on it at once); a front expires
// silent cells on the same beat (docs/deploy.md, "Fronts and cells").
const { cells } = services;
// A learner's slot is given back once they hold nothing here: no lab run going, no shell.
// A drill's slot once the drill has ended (its cluster is deleted then). One query for the learners.
const idleHere = async (placements: Placement[]) => {
  const learners = placements.filter((placement) => placement.runKind === 'lab').map((placement) => placement.learnerId);
  const going = learners.length ? await services.labs.learnersWithGoingRun(learners) : new Set<string>();
  const shells = new Set(services.terminals?.list().map((session) => session.owner) ?? []);
  const idle = new Set<string>();
  for (const placement of placements) {
    const done = placement.runKind === 'drill' ? [undefined, 'ended'].includes(await services.drills.stateOf(placement.runId)) : !going.has(placement.learnerId) && !shells.has(placement.learnerId);
    if (done) idle.add(placementKey(placement));
  }
  return idle;
};
const membership = cells && config.cells.role === 'cell' && config.cells.url ? cellMembership({ registry: cells, cell: { id: config.cells.id, url: config.cells.url, capacity: config.cells.capacity }, heartbeatMs: config.cells.heartbeatMs, idle: idleHere }) : undefined;
// Warm pools sized from the classes due (docs/deploy.md, "Warm pools sized from expected
// attendance"): each cell (or the one process) resizes its own pool on a slow beat.
const sizing = config.cells.role !== 'front' && config.warmPlan.fraction > 0;
const sizer = sizing
  ? warmSizer({
      store: services.db,
      ...(cells && config.cells.role === 'cell' ? { cell: { registry: cells, id: config.cells.id } } : {}),
      settings: { floor: config.pool.size, ...config.warmPlan },
      everyMs: 15_000,
      resize: async (clusters) => {
        const running = await services.runningPool()?.catch(() => undefined);
        if (!running) return false;
        await running.resize(clusters);
        return true;
      },
    })
  : undefined;
// The drills of a cell this front gave up end at once (docs/drills.md, "Fronts and cells"), not
// only when someone next opens them.
const endLostDrills = async (lostCells: string[]) => {
  for (const cellId of lostCells) for (const placement of await cells!.lostOn(cellId, 'drill')) await services.drills.lostCell(placement.runId).catch((error: unknown) => console.error(`irlab front: ending drill ${placement.runId} of the lost cell ${cellId} failed: ${String(error)}`));
};
// A gap in the front's watching longer than this restarts every cell's expiry window (a database
// outage): a shorter one leaves each cell at least a heartbeat of its window, and an upkeep slow
// by less than this never holds expiry off.
const upkeepGapMs = Math.max(2 * config.cells.heartbeatMs, config.cells.expireAfterMs - 2 * config.cells.heartbeatMs);
const upkeep = cells && config.cells.role === 'front' ? frontUpkeep({ registry: cells, everyMs: config.cells.heartbeatMs, gapMs: upkeepGapMs, onLost: endLostDrills }) : undefined;

server.listen(config.port, config.host, () => {
  membership?.start().catch((error: unknown) => {
    console.error(`irlab cell ${config.cells.id}: registering in the database failed: ${error instanceof Error ? error.message : String(error)}`);
    void stop('the cell could not register');
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  console.log(`irlab: listening on http://${config.host}:${port} · terminal ${host ? `sandboxed (${host.budgets.uids ? `a uid per session from ${host.budgets.uids.range.first}-${host.budgets.uids.range.last}` : `${host.identity.mode}, uid ${host.identity.uid}`}${host.budgets.cgroups ? `, cgroup v${host.budgets.cgroups.version}` : ''}), ${services.terminalClusters}` : 'unavailable'} · data in ${config.dataDir}`);
});

/** A registry step of stopping, given at most 10 s. */
async function registryStep(what: string, step: Promise<unknown> | undefined): Promise<void> {
  if (!step) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(() => (console.error(`irlab cell: ${what} took over 10 s; going on`), resolve()), 10_000)));
  await Promise.race([step.catch((error: unknown) => console.error(`irlab cell: ${what} failed: ${error instanceof Error ? error.message : String(error)}`)), late]);
  clearTimeout(timer);
}

let stopping = false;
/** A second signal while a cell waits for its learners: stop now. */
const hurry = new AbortController();
async function stop(signal: string): Promise<void> {
  if (stopping) return hurry.abort();
  stopping = true;
  console.log(`irlab: ${signal}: closing terminal sessions and stopping`);
  upkeep?.stop();
  sizer?.stop();
  // A cell drains first (no new learners), waits for its learners to finish if it was given the
  // time (IRLAB_CELL_DRAIN_SECONDS; its routes keep serving them), then lets the rest go before
  // the store closes. Bounded: with the database unreachable the fronts expire this cell anyway.
  await registryStep('draining', membership?.drain());
  if (membership && config.cells.drainMs > 0) {
    const still = await membership.waitForLearners(config.cells.drainMs, hurry.signal);
    if (still) console.log(`irlab cell ${config.cells.id}: leaving with ${still} learner(s) still placed here: they start again on another cell, progress kept`);
  }
  closeRoutes();
  await registryStep('leaving the registry', membership?.leave());
  await services.close();
  server.close();
  server.closeAllConnections();
  process.exit(0);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stop(signal));
// Node has no parent-death signal: when whoever started the server dies without stopping it
// (`npm start`'s scripts/start.ts killed with SIGKILL), it is adopted, and its parent pid changes.
// Stop then, so nothing of a start outlives it. A server run by init or a container's PID 1 keeps
// its parent.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void stop(`the parent process (${parent}) went away`);
}, 1000).unref();
