/**
 * Which requests need the learner's cluster or workspace, so live on the cell that hosts them
 * (docs/deploy.md, "Fronts and cells"). A front proxies these to the learner's cell and serves
 * everything else itself; a cell serves these only with a front's signed header.
 *
 *   place           Start a lab, open a terminal: the learner gets a cell (the one they have, or a free one).
 *   placed          Lab actions on the running run (check, hint, apply-policy, node-evidence, extend, reset):
 *                   only where the learner is placed.
 *   placed-or-here  Reads of the lab and the workspace: on the learner's cell when placed; a learner not
 *                   placed (or whose cell was lost) is answered by the front from the database (a front
 *                   holds no clusters, so it never re-seeds one).
 *
 * (The learner's class notices are 'placed-or-here' too: whether her shell is watched is her cell's to say.)
 *
 * The learner's placement is one per learner (run id = learner id): their labs and shells are on
 * one cell, as the terminal attaches to the learner's running lab's cluster.
 */
export type ClusterRoute = 'place' | 'placed' | 'placed-or-here';

const LAB = /^\/api\/labs\/([^/]+)$/;
const LAB_PART = /^\/api\/labs\/([^/]+)\/([^/]+)$/;
/** Lab sub-paths the front answers itself (notes live in the database). */
const FRONT_PARTS = new Set(['notes']);

export function clusterRoute(method: string | undefined, pathname: string): ClusterRoute | undefined {
  if (pathname === '/api/terminal/session') return method === 'POST' ? 'place' : undefined;
  // The learner's class notices say whether an instructor watches her shell: her cell knows.
  if (pathname === '/api/classes/notices') return method === 'GET' || method === 'POST' ? 'placed-or-here' : undefined;
  if (LAB.test(pathname)) return method === 'GET' || method === 'HEAD' ? 'placed-or-here' : undefined;
  const part = LAB_PART.exec(pathname)?.[2];
  if (!part || FRONT_PARTS.has(part)) return undefined;
  if (part === 'files') return method === 'GET' || method === 'HEAD' ? 'placed-or-here' : undefined;
  if (method !== 'POST') return undefined;
  return part === 'start' ? 'place' : 'placed';
}

/** The terminal's WebSocket: relayed to the learner's cell. */
export const isClusterSocket = (pathname: string): boolean => /^\/ws\/terminal\/[^/]+$/.test(pathname);

/**
 * A query of an audit log (`POST /api/query`): of the learner's lab or of a drill, it runs on the
 * cell holding that cluster (the source is in the body: front/query-front.ts reads it); a cell
 * serves it only with a front's header, like the routes above.
 */
export const isQueryRoute = (method: string | undefined, pathname: string): boolean => method === 'POST' && pathname === '/api/query';

/** The placement key of a learner's cell (one per learner). */
export const learnerPlacement = (learnerId: string): { runId: string; kind: 'lab' } => ({ runId: learnerId, kind: 'lab' });

/**
 * Drills (docs/drills.md, "Fronts and cells"): a drill is placed on a cell when it is created (run
 * kind 'drill', run id the drill's id, which the front draws so the placement exists before the
 * cell makes the drill); its cluster, clock, scoreboard, participants' terminals and live feed
 * live there. Every request that changes a drill goes to that cell (the live feed announces what
 * its own process appended); reads of a drill (view, report, scenarios) need only the database and
 * stay on the front.
 *
 *   create  POST /api/drills: placed on a free cell, the drill id chosen by the front.
 *   join    POST /api/drills/join: the drill is found by the code in the body.
 *   drill   POST /api/drills/<id>/<action> (log, injects, control, answers, expectations/<e>, terminal).
 */
export type DrillRoute = { kind: 'create' } | { kind: 'join' } | { kind: 'drill'; drillId: string };

export const DRILL_ID = /^drl_[A-Za-z0-9_-]{12}$/;
const DRILL_ACTION = /^\/api\/drills\/([A-Za-z0-9_-]{1,64})\/(log|injects|control|answers|terminal|expectations\/[^/]+)$/;

export function drillRoute(method: string | undefined, pathname: string): DrillRoute | undefined {
  if (method !== 'POST') return undefined;
  if (pathname === '/api/drills') return { kind: 'create' };
  if (pathname === '/api/drills/join') return { kind: 'join' };
  const drillId = DRILL_ACTION.exec(pathname)?.[1];
  return drillId ? { kind: 'drill', drillId } : undefined;
}

/** The drill's live feed: relayed to the drill's cell. */
export const drillSocket = (pathname: string): string | undefined => /^\/ws\/drills\/([A-Za-z0-9_-]{1,64})$/.exec(pathname)?.[1];

/** The placement key of a drill's cell (one per drill). */
export const drillPlacement = (drillId: string): { runId: string; kind: 'drill' } => ({ runId: drillId, kind: 'drill' });

/**
 * The forward header always names a learner; a request with none (a facilitator known only by the
 * drill's bearer token) is signed for this name, which no learner has (learner ids are `lrn_...`):
 * the cell then knows nobody by it and checks the token as one process would.
 */
export const NO_LEARNER = 'no-learner';

/**
 * An instructor watching a learner's lab shell (docs/classes.md, "Watching"): the class's watch
 * endpoint `GET /api/classes/<class>/watch?learner=<L>` and the socket it names,
 * `/ws/terminal/<session>?watch=1&learner=<L>`, go to L's cell. The front checks the instructor
 * (it has their cookie or bearer; the cell gets neither) and that L is in a class they manage,
 * then signs the request for this principal, which no learner has (learner ids are `lrn_...`):
 * the cell lets it read L's lab endpoint and watch L's lab shell read-only, nothing else.
 */
const WATCHER_PREFIX = 'watcher-of:';
export const watcherOf = (learnerId: string): string => `${WATCHER_PREFIX}${learnerId}`;
/** The learner a watcher principal may watch, or undefined for any other principal. */
export const watchedBy = (principal: string): string | undefined => (principal.startsWith(WATCHER_PREFIX) ? principal.slice(WATCHER_PREFIX.length) || undefined : undefined);

const CLASS_WATCH = /^\/api\/classes\/([^/]+)\/watch$/;
/** The class watch endpoint's class id (GET only). */
export const classWatchRoute = (method: string | undefined, pathname: string): string | undefined => (method === 'GET' || method === 'HEAD' ? CLASS_WATCH.exec(pathname)?.[1] : undefined);

/** The learner a request watches: the watch endpoint's or a watch socket's `learner` (undefined for anything else). */
export function watchTarget(method: string | undefined, url: URL, kind: 'http' | 'upgrade'): string | undefined {
  const bound = kind === 'http' ? classWatchRoute(method, url.pathname) !== undefined : isClusterSocket(url.pathname) && url.searchParams.get('watch') === '1';
  return bound ? url.searchParams.get('learner') || undefined : undefined;
}
