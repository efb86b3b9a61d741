/**
 * A front's share of drills (docs/drills.md, "Fronts and cells"): a drill lives on the cell it was
 * placed on when it was created (cells/cluster-routes.ts, `drillRoute`). The front draws the new
 * drill's id and places it before proxying the creation (a creation the cell refuses gives the slot
 * back); finds a join's drill by the code in its body; sends every other change of a drill, the
 * live feed and the participants' terminals (watched ones too) to the drill's cell, signed for the
 * caller's learner (NO_LEARNER for a facilitator with no learner session: the bearer token goes
 * through unchanged and the cell checks it). A drill whose cell was lost is ended in the database
 * with a log entry, and the request answers 503 saying so.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { drillPlacement, drillRoute, drillSocket, NO_LEARNER } from '../cells/cluster-routes.ts';
import { PlacementError, type CellRegistry, type Placement } from '../cells/registry.ts';
import { readBoundedBody, sendJson } from '../http/endpoint.ts';
import type { Identify } from '../http/terminal-routes.ts';
import { refuseUpgrade } from '../http/ws-safety.ts';
import { DRILL_CODE } from '../drill/service.ts';

/** What the front reads about drills from the database. */
export interface DrillLookup {
  /** A fresh drill id (the cell makes the drill under it). */
  newId(): string;
  /** The drill a join code names. */
  byCode(code: string): Promise<string | undefined>;
  /** The drill whose participant's terminal session this is. */
  ofTerminalSession(sessionId: string): Promise<string | undefined>;
  /** 'ended', another state, or undefined: no such drill. */
  stateOf(drillId: string): Promise<string | undefined>;
  /** The drill's cell was lost: the drill is ended with a log entry (once, whoever calls). */
  cellLost(drillId: string): Promise<void>;
}

export const LOST_DRILL =
  'The server that held this drill (its cluster, clock and terminals) has stopped, so the drill was ended. Its log and scoreboard are kept: open the drill page to read them and the after-action report. To go on, the facilitator creates a new drill, which gets a fresh cluster.';
const UNPLACED = 'This drill is not on any server that runs drills (it was made before irlab ran as fronts and cells): the facilitator ends it and creates a new one.';
/** A join's body ({code, name, role}) is small; the cell bounds it the same. */
const JOIN_BODY_LIMIT = 16 * 1024;
const SESSION_SOCKET = /^\/ws\/terminal\/([^/]+)$/;

type Proxy = (req: IncomingMessage, res: ServerResponse, placement: Placement, learnerId: string, setCookie: string | undefined, as?: { path?: string; body?: Buffer }) => Promise<number>;
type Relay = (req: IncomingMessage, socket: Duplex, head: Buffer, placement: Placement, learnerId: string) => void;

function codeOf(body: Buffer): string | undefined {
  try {
    const code = (JSON.parse(body.toString('utf8')) as { code?: unknown } | null)?.code;
    const normal = typeof code === 'string' && code.length <= 64 ? code.trim().toUpperCase() : undefined;
    // Never to the database otherwise: text with NUL is a statement PostgreSQL refuses.
    return normal && DRILL_CODE.test(normal) ? normal : undefined;
  } catch {
    return undefined;
  }
}

export function drillFront({ registry, identify, lookup, proxy, relay }: { registry: CellRegistry; identify: Identify; lookup: DrillLookup; proxy: Proxy; relay: Relay }) {
  /** The drill's live placement, or undefined once the answer is sent (lost, ended, unknown). */
  async function placed(res: ServerResponse, drillId: string, setCookie?: string): Promise<Placement | undefined> {
    const { runId, kind } = drillPlacement(drillId);
    const placement = await registry.placementOf(runId, kind);
    if (placement && !placement.lost) return placement;
    const headers: Record<string, string> = setCookie ? { 'set-cookie': setCookie } : {};
    if (placement) {
      await lookup.cellLost(drillId);
      sendJson(res, 503, { error: LOST_DRILL, lost: true }, headers);
      return undefined;
    }
    const state = await lookup.stateOf(drillId);
    if (!state) sendJson(res, 404, { error: `no drill ${drillId}` }, headers);
    else if (state === 'ended') sendJson(res, 409, { error: 'the drill has ended: its log, scoreboard and report stay on its page' }, headers);
    else sendJson(res, 503, { error: UNPLACED }, headers);
    return undefined;
  }

  /** The placement a socket goes to, or undefined once refused. */
  async function socketPlacement(socket: Duplex, drillId: string): Promise<Placement | undefined> {
    const { runId, kind } = drillPlacement(drillId);
    const placement = await registry.placementOf(runId, kind);
    if (!placement) return void refuseUpgrade(socket, 404, 'Not Found');
    if (!placement.lost) return placement;
    await lookup.cellLost(drillId);
    return void refuseUpgrade(socket, 410, 'Gone');
  }

  const learnerOf = async (req: IncomingMessage) => (await identify(req, { create: false }))?.id ?? NO_LEARNER;

  return {
    isSocket: (pathname: string) => drillSocket(pathname) !== undefined,

    /** True when the request was a drill change and answered here. */
    async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
      const route = drillRoute(req.method, url.pathname);
      if (!route) return false;
      if (route.kind === 'join') {
        // Joining makes the learner session when there is none, as in one process.
        const learner = (await identify(req, { create: false })) ?? (await identify(req, { create: true }));
        const cookie: Record<string, string> = learner.setCookie ? { 'set-cookie': learner.setCookie } : {};
        const body = await readBoundedBody(req, JOIN_BODY_LIMIT);
        if (!body) return sendJson(res, 413, { error: `the request body is larger than ${JOIN_BODY_LIMIT} bytes` }, cookie), true;
        const code = codeOf(body);
        const drillId = code ? await lookup.byCode(code) : undefined;
        if (!drillId) return sendJson(res, 404, { error: 'no drill has this code: check it with your facilitator' }, cookie), true;
        const placement = await placed(res, drillId, learner.setCookie);
        if (placement) await proxy(req, res, placement, learner.id, learner.setCookie, { body });
        return true;
      }
      const learnerId = await learnerOf(req);
      if (route.kind === 'create') {
        const drillId = lookup.newId();
        const { runId, kind } = drillPlacement(drillId);
        let placement: Placement;
        try {
          placement = await registry.place(learnerId, runId, kind);
        } catch (error) {
          if (!(error instanceof PlacementError)) throw error;
          return sendJson(res, error.status, { error: error.message }), true;
        }
        // The cell makes the drill under the id in the path the front signs (its own query is dropped).
        const status = await proxy(req, res, placement, learnerId, undefined, { path: `/api/drills?drill=${drillId}` });
        if (status !== 201) await registry.release(runId, kind);
        return true;
      }
      const placement = await placed(res, route.drillId);
      if (placement) await proxy(req, res, placement, learnerId, undefined);
      return true;
    },

    /** A request about the drill that the front read already (a query of its audit log), sent to its cell or answered. */
    async forward(req: IncomingMessage, res: ServerResponse, drillId: string, body: Buffer): Promise<void> {
      const placement = await placed(res, drillId);
      if (placement) await proxy(req, res, placement, await learnerOf(req), undefined, { body });
    },

    /** The drill's live feed, relayed to its cell (the front checked the Origin already). */
    async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void> {
      const drillId = drillSocket(url.pathname);
      const placement = drillId ? await socketPlacement(socket, drillId) : undefined;
      if (placement) relay(req, socket, head, placement, await learnerOf(req));
    },

    /** True when the terminal session is a drill participant's (relayed to the drill's cell, or refused). */
    async terminalUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL, learnerId: string): Promise<boolean> {
      const sessionId = SESSION_SOCKET.exec(url.pathname)?.[1];
      const drillId = sessionId ? await lookup.ofTerminalSession(sessionId) : undefined;
      if (!drillId) return false;
      const placement = await socketPlacement(socket, drillId);
      if (placement) relay(req, socket, head, placement, learnerId);
      return true;
    },
  };
}

export type DrillFront = ReturnType<typeof drillFront>;
