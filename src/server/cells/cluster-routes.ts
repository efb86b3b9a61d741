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
  if (LAB.test(pathname)) return method === 'GET' || method === 'HEAD' ? 'placed-or-here' : undefined;
  const part = LAB_PART.exec(pathname)?.[2];
  if (!part || FRONT_PARTS.has(part)) return undefined;
  if (part === 'files') return method === 'GET' || method === 'HEAD' ? 'placed-or-here' : undefined;
  if (method !== 'POST') return undefined;
  return part === 'start' ? 'place' : 'placed';
}

/** The terminal's WebSocket: relayed to the learner's cell. */
export const isClusterSocket = (pathname: string): boolean => /^\/ws\/terminal\/[^/]+$/.test(pathname);

/** The placement key of a learner's cell (one per learner). */
export const learnerPlacement = (learnerId: string): { runId: string; kind: 'lab' } => ({ runId: learnerId, kind: 'lab' });
