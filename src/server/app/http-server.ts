/**
 * The process's HTTP server around one set of services: irlab's own routes (health, the
 * terminal's and the drills' endpoints and WebSockets, which Astro's adapter has no hook for),
 * then dist/client (static-files.ts), then Astro's handler (middleware mode) with the services
 * as `locals`, so pages and endpoints use the very instances the routes here use.
 *
 * No input ends the process: every request and upgrade handler runs guarded (an exception is
 * logged on one line and answered 500 with a reason, or the socket closed), every socket has an
 * error listener, and a bad WebSocket frame closes only its socket (ws-safety.ts).
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { forwardedWatchAllowed, instructorMayWatch, instructorMayWatchLearner } from '../classes/watch.ts';
import { SESSION_COOKIE, SESSION_MAX_AGE_SECONDS } from '../learners/learners.ts';
import { proxiedAddress, requestAddress, trustForwardedAddress } from '../http/client-address.ts';
import { createDrillRoutes } from '../http/drill-routes.ts';
import { internalError, logUnexpected, MAX_BODY_BYTES, refuseBody, sendJson } from '../http/endpoint.ts';
import { createEngineRoutes } from '../http/engine-routes.ts';
import { handleHealth } from '../http/health.ts';
import { applySecurityHeaders, validHost } from '../http/security-headers.ts';
import { createTerminalRoutes, readCookie, type AdmitNewSession, type Identify } from '../http/terminal-routes.ts';
import { refuseUpgrade, safeWebSocketServer } from '../http/ws-safety.ts';
import { httpStatusOf } from '../../lib/error-status.ts';
import { cellGate } from '../cells/cell-gate.ts';
import { forwardSigner, forwardVerifier } from '../cells/forward-auth.ts';
import { frontProxy } from '../front/front-proxy.ts';
import { newDrillId } from '../drill/service.ts';
import type { Locals, Services } from './services.ts';
import type { StaticFiles } from './static-files.ts';

/** Astro's handler in the Node adapter's middleware mode. */
export type AstroHandler = (req: IncomingMessage, res: ServerResponse, next: (() => void) | undefined, locals: Locals) => Promise<void> | void;

export interface IrlabServer {
  server: http.Server;
  /** Closes the WebSocket servers (sessions are the services' to end). */
  closeRoutes(): void;
}

export function createIrlabServer(services: Services, astro: AstroHandler, files: StaticFiles): IrlabServer {
  const { learners, terminals: manager, drills, labs, limits } = services;
  // Fronts and cells (IRLAB_ROLE): a cell serves the cluster-bound routes only to its fronts,
  // for the learner their signed header names; a front proxies those routes to the learner's cell.
  const { role, forwardKey, id: cellId } = services.config.cells;
  const gate = role === 'cell' && forwardKey ? cellGate({ verifier: forwardVerifier({ key: forwardKey, cellId }), db: services.db, learners }) : undefined;
  const stopping = new AbortController();
  // The learner is the one the learner session cookie names (shared with quizzes and labs).
  const identify = (async (req, options) => {
    const forwarded = gate?.learnerOf(req);
    if (forwarded) return { id: forwarded };
    const found = await learners.fromSession(readCookie(req.headers.cookie, SESSION_COOKIE));
    if (found) return { id: found.id };
    if (!options.create) return undefined;
    const { learner, token } = await learners.create();
    return { id: learner.id, setCookie: `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${SESSION_MAX_AGE_SECONDS}` };
  }) as Identify;
  const drillRoutes = createDrillRoutes(drills, identify);
  // A new terminal session that creates a cluster (no lab to attach to) spends a cluster start,
  // from the same budgets lab starts and drills spend (one ServerLimits for the process).
  const admitNewSession: AdmitNewSession = async (req, learnerId) => {
    if (!services.clusterPerSession || (learnerId && (await labs.clusterFor(learnerId)))) return undefined;
    return limits.clusterStart({ learner: learnerId, address: requestAddress(req) });
  };
  const terminal = manager ? createTerminalRoutes(manager, identify, async (learnerId, session, req) => forwardedWatchAllowed(learnerId, session) || (await drills.canWatch(learnerId, session.group)) || (await instructorMayWatch(services, req, session)), admitNewSession) : null;
  const engineRoutes = createEngineRoutes({ status: () => services.engine.status(), terminalNeedsEngine: () => services.clusterPerSession });
  const locals: Locals = { services };
  const relays = role === 'front' ? safeWebSocketServer(64 * 1024) : undefined;
  // A drill lives on its cell: the front reads the database to find it (drill-front.ts).
  const drillLookup = { newId: newDrillId, byCode: drills.idByCode, ofTerminalSession: drills.drillOfTerminal, stateOf: drills.stateOf, cellLost: drills.lostCell };
  const proxy = relays && services.cells && forwardKey ? frontProxy({ registry: services.cells, signer: forwardSigner({ key: forwardKey }), identify, wss: relays, signal: stopping.signal, drills: drillLookup, mayWatch: (req, learnerId, classId) => instructorMayWatchLearner(services, req, learnerId, classId) }) : undefined;
  const trustProxy = services.config.trustProxy;
  // Behind the proxy irlab trusts, budgets charge the address it saw, not its own (a whole class
  // behind one Ingress would share one budget). A cell's client is its front's header's instead.
  const trustProxiedAddress = (req: IncomingMessage) => {
    const seen = trustProxy && role !== 'cell' ? proxiedAddress(req) : undefined;
    if (seen) trustForwardedAddress(req, seen);
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    applySecurityHeaders(req, res, { trustProxy });
    // Astro builds a URL from Host; one that is no host name would make that throw.
    if (!validHost(req.headers.host)) return sendJson(res, 400, { error: 'the Host header is not a host name (name or address, and an optional port)' }, { connection: 'close' });
    if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) return refuseBody(req, res);
    trustProxiedAddress(req);
    if (proxy && (await proxy.handle(req, res))) return;
    let requestLocals = locals;
    const admitted = gate?.admit(req, 'http');
    if (admitted && !admitted.ok) return sendJson(res, admitted.status, { error: admitted.error });
    // The endpoints read the learner through `learners.fromSession`: here it is the header's learner.
    if (admitted?.ok) requestLocals = { services: { ...services, learners: gate!.learnersFor(admitted.learnerId) }, ...(admitted.watching !== undefined ? { watching: admitted.watching } : {}) };
    // After the gate: on a cell, a forwarded request's address is the browser's (client-address.ts).
    requestLocals = { ...requestLocals, clientAddress: requestAddress(req) };
    if (handleHealth(req, res, manager, services.instructorToken, services.xapi)) return;
    if (engineRoutes.handle(req, res)) return;
    if (terminal?.handle(req, res)) return;
    if (drillRoutes.handle(req, res)) return;
    if (services.lti && (await services.lti.routes.handle(req, res))) return;
    if (!services.lti && req.url?.startsWith('/lti/')) {
      return sendJson(res, 404, { error: 'LTI is not set up on this irlab server', fix: 'an operator registers the LMS platforms in a file named by IRLAB_LTI_PLATFORMS (docs/classes.md, "LTI 1.3") and restarts irlab' });
    }
    if (!terminal && req.url?.startsWith('/api/terminal/')) {
      return sendJson(res, 503, { error: `The terminal is unavailable on this server: ${services.terminalProblem ?? 'bubblewrap or its sandbox user is missing'}. Run \`bash scripts/ensure-system-packages.sh\` as root and restart.` });
    }
    if (await files.handle(req, res)) return;
    // No `next`: a route Astro does not know gets Astro's 404 page.
    await astro(req, res, undefined, requestLocals);
  };

  const server = http.createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      // An error that carries a client status (bad input the store refused, a refusal of a
      // service) is that answer, as Astro's endpoints give it; anything else is ours: a 500.
      const status = httpStatusOf(error);
      if (status !== undefined && status < 500 && !res.headersSent) return sendJson(res, status, { error: error instanceof Error ? error.message : String(error) });
      internalError(res, `${req.method} ${req.url?.slice(0, 200)}`, error);
    });
  });
  server.on('upgrade', (req, socket, head) => {
    // Until ws owns the socket, nobody listens for its errors: a reset would end the process.
    // A peer that went away needs no log line.
    socket.on('error', () => socket.destroy());
    try {
      if (!validHost(req.headers.host)) return refuseUpgrade(socket, 400, 'Bad Request');
      trustProxiedAddress(req);
      if (proxy?.upgrade(req, socket, head)) return;
      const admitted = gate?.admit(req, 'upgrade');
      if (admitted && !admitted.ok) return refuseUpgrade(socket, 403, 'Forbidden');
      if (drillRoutes.upgrade(req, socket, head)) return;
      if (terminal?.upgrade(req, socket, head)) return;
      refuseUpgrade(socket, 404, 'Not Found');
    } catch (error) {
      logUnexpected(`the upgrade of ${req.url?.slice(0, 200)}`, error);
      refuseUpgrade(socket, 500, 'Internal Server Error');
    }
  });
  return {
    server,
    closeRoutes() {
      stopping.abort();
      relays?.close();
      terminal?.close();
      drillRoutes.close();
    },
  };
}
