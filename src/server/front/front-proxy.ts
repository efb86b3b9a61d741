/**
 * A front's proxy (docs/deploy.md, "Fronts and cells"): the cluster-bound requests
 * (cells/cluster-routes.ts) go to the cell that hosts the learner. The front authenticates the
 * browser by its cookie, finds the learner's placement (or makes one on Start and on opening a
 * terminal), drops any `x-irlab-forward` header and cookie the browser sent, adds its own signed
 * header and proxies: HTTP with a bounded body and a time limit, the terminal's WebSocket through
 * ws-relay.ts. A placement whose cell was lost answers 503 telling the learner to start again
 * (their progress is in the database; the next Start places them on a live cell).
 */
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import { classWatchRoute, clusterRoute, isClusterSocket, learnerPlacement, watcherOf, watchTarget } from '../cells/cluster-routes.ts';
import { drillFront, type DrillLookup } from './drill-front.ts';
import { isQueryRoute, queryFront } from './query-front.ts';
import { FORWARD_HEADER, type ForwardedRequest } from '../cells/forward-auth.ts';
// The browser's address goes in the signed header: the cell charges per-address budgets to it.
import { requestAddress } from '../http/client-address.ts';
import { PlacementError, type CellRegistry, type Placement } from '../cells/registry.ts';
import { MAX_BODY_BYTES, sendJson } from '../http/endpoint.ts';
import type { Identify } from '../http/terminal-routes.ts';
import { refuseUpgrade } from '../http/ws-safety.ts';
import { relayUpgrade } from './ws-relay.ts';
// The terminal socket's same-origin check is made here: the cell cannot see the browser's Origin.
import { sameOrigin } from '../http/same-origin.ts';

export interface FrontProxyOptions {
  registry: CellRegistry;
  signer: { sign(request: ForwardedRequest): string };
  identify: Identify;
  /** Completes browsers' upgrades (a safeWebSocketServer). */
  wss: WebSocketServer;
  /** A cell that has not answered a Start in this long is given up on (seeding can take minutes cold). */
  startTimeoutMs?: number;
  /** The same for every other request. */
  timeoutMs?: number;
  /** The front stopping: requests in flight are cut, relays closed with 1001. */
  signal?: AbortSignal;
  /** Drills on their cells (drill-front.ts); absent: drill requests are the front's own. */
  drills?: DrillLookup;
  /**
   * Whether the request is an instructor's who may watch this learner's lab shell (of that class,
   * when named): the front has their cookies and bearer, the cell neither. Absent: no watches routed.
   */
  mayWatch?: (req: IncomingMessage, learnerId: string, classId?: string) => Promise<boolean>;
}

export interface FrontProxy {
  /** True when the request was cluster-bound and answered here; false: the front serves it itself. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** True when the upgrade is the terminal's (relayed or refused here). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
}

export const LOST_MESSAGE = 'The server that held your lab cluster and terminal has stopped. Your progress is kept: press Start to get a fresh cluster and continue.';
const NOT_STARTED = 'Your lab is not running: press Start first.';

/** Hop-by-hop headers (RFC 9110 7.6.1) and what the front must not pass on. */
const DROPPED = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'cookie', FORWARD_HEADER]);

function forwardable(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const kept: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !DROPPED.has(name)) kept[name] = value;
  return kept;
}

export function frontProxy(options: FrontProxyOptions): FrontProxy {
  const { registry, signer, identify } = options;
  const startTimeoutMs = options.startTimeoutMs ?? 300_000;
  const timeoutMs = options.timeoutMs ?? 120_000;

  /**
   * Proxies one request to the placement's cell; resolves with the cell's status (0: no answer).
   * `as` may give the path the cell gets (signed as such) and a body the front already read.
   */
  function proxyHttp(req: IncomingMessage, res: ServerResponse, placement: Placement, learnerId: string, setCookie: string | undefined, limitMs: number, as: { path?: string; body?: Buffer } = {}): Promise<number> {
    const target = new URL(placement.cellUrl);
    const path = as.path ?? req.url ?? '/';
    // Host stays the browser's: the cell's same-origin checks and the URLs it builds are the front's.
    const headers = { ...forwardable(req.headers), [FORWARD_HEADER]: signer.sign({ method: req.method ?? 'GET', path, learnerId, cellId: placement.cellId, address: requestAddress(req) }) };
    return new Promise<number>((settle) => {
      let answered = false;
      let status = 0;
      const resolve = () => settle(status);
      const fail = (failed: number, error: string) => {
        if (!answered && !res.headersSent) sendJson(res, failed, { error }, setCookie ? { 'set-cookie': setCookie } : {});
        else res.destroy();
        answered = true;
        resolve();
      };
      const upstream = (target.protocol === 'https:' ? https : http).request({ protocol: target.protocol, hostname: target.hostname, port: target.port, method: req.method, path, headers, signal: options.signal });
      // Idle time on the cell's socket: a hung cell does not hold the browser forever.
      upstream.setTimeout(limitMs, () => upstream.destroy(new Error('timeout')));
      upstream.on('error', (error: Error & { code?: string }) => {
        if (/timeout/.test(error.message)) return fail(504, `The server that holds your lab (${placement.cellId}) did not answer within ${Math.round(limitMs / 1000)} s; try again.`);
        fail(502, `The server that holds your lab (${placement.cellId}) could not be reached (${error.code ?? error.message}); try again in a minute. If it stays down, your lab is started again on another server with your progress kept.`);
      });
      upstream.on('response', (answer) => {
        if (answered) return void answer.resume();
        answered = true;
        status = answer.statusCode ?? 502;
        const back: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined && !DROPPED.has(name)) back[name] = value;
        if (setCookie) back['set-cookie'] = [...[answer.headers['set-cookie'] ?? []].flat(), setCookie];
        res.writeHead(answer.statusCode ?? 502, back);
        answer.pipe(res);
        answer.on('error', () => res.destroy());
        answer.on('end', resolve);
        res.on('close', () => {
          answer.destroy();
          resolve();
        });
      });
      if (as.body) return void upstream.end(as.body);
      // The body, bounded as the front's own endpoints bound theirs.
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          upstream.destroy();
          req.resume();
          return fail(413, `the request body is larger than ${MAX_BODY_BYTES} bytes`);
        }
        if (!upstream.write(chunk)) {
          req.pause();
          upstream.once('drain', () => req.resume());
        }
      });
      req.on('end', () => upstream.end());
      req.on('error', () => upstream.destroy());
    });
  }

  function relayTo(req: IncomingMessage, socket: Duplex, head: Buffer, placement: Placement, learnerId: string): void {
    const cell = new URL(placement.cellUrl);
    const path = req.url ?? '/';
    relayUpgrade(req, socket, head, {
      wss: options.wss,
      target: { url: `${cell.protocol === 'https:' ? 'wss' : 'ws'}://${cell.host}${path}`, headers: { [FORWARD_HEADER]: signer.sign({ method: 'GET', path, learnerId, cellId: placement.cellId, address: requestAddress(req) }) } },
      connectTimeoutMs: 10_000,
      maxBufferedBytes: 1024 * 1024,
      maxPayload: 1024 * 1024,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  const drills = options.drills ? drillFront({ registry, identify, lookup: options.drills, proxy: (req, res, placement, learnerId, setCookie, as) => proxyHttp(req, res, placement, learnerId, setCookie, timeoutMs, as), relay: relayTo }) : undefined;

  const queries = queryFront({ registry, identify, drills, lostMessage: LOST_MESSAGE, proxy: (req, res, placement, learnerId, body) => proxyHttp(req, res, placement, learnerId, undefined, timeoutMs, { body }) });

  /**
   * An instructor's watch of learner L goes to L's cell, signed as L's watcher (the path, with L,
   * signed too). Undefined: not a watch this front routes (not an instructor of L, or L has no
   * live placement): the front's own routes answer it (401, 404, or 409 "no lab terminal open").
   */
  async function watchPlacement(req: IncomingMessage, learnerId: string | undefined, classId?: string): Promise<Placement | undefined> {
    if (!learnerId || !options.mayWatch || !(await options.mayWatch(req, learnerId, classId))) return undefined;
    const { runId, kind } = learnerPlacement(learnerId);
    return registry.placementOf(runId, kind);
  }

  return {
    async handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://front');
      const watchClass = classWatchRoute(req.method, url.pathname);
      if (watchClass !== undefined) {
        const watched = watchTarget(req.method, url, 'http');
        const placement = await watchPlacement(req, watched, watchClass);
        if (!placement || placement.lost) return false;
        await proxyHttp(req, res, placement, watcherOf(watched!), undefined, timeoutMs);
        return true;
      }
      if (drills && (await drills.handle(req, res, url))) return true;
      if (isQueryRoute(req.method, url.pathname)) return queries.handle(req, res);
      const route = clusterRoute(req.method, url.pathname);
      if (!route) return false;
      const known = await identify(req, { create: false });
      const learner = known ?? (route === 'place' ? await identify(req, { create: true }) : undefined);
      if (!learner) {
        if (route === 'placed-or-here') return false;
        sendJson(res, 409, { error: NOT_STARTED });
        return true;
      }
      const { runId, kind } = learnerPlacement(learner.id);
      let placement: Placement | undefined;
      if (route === 'place') {
        try {
          placement = await registry.place(learner.id, runId, kind);
        } catch (error) {
          if (!(error instanceof PlacementError)) throw error;
          sendJson(res, error.status, { error: error.message }, learner.setCookie ? { 'set-cookie': learner.setCookie } : {});
          return true;
        }
      } else {
        placement = await registry.placementOf(runId, kind);
        if (!placement || placement.lost) {
          if (route === 'placed-or-here') return false;
          sendJson(res, placement ? 503 : 409, { error: placement ? LOST_MESSAGE : NOT_STARTED, ...(placement ? { lost: true } : {}) });
          return true;
        }
      }
      await proxyHttp(req, res, placement, learner.id, learner.setCookie, url.pathname.endsWith('/start') ? startTimeoutMs : timeoutMs);
      return true;
    },

    upgrade(req, socket, head) {
      const url = new URL(req.url ?? '/', 'http://front');
      const drillFeed = drills?.isSocket(url.pathname);
      if (!drillFeed && !isClusterSocket(url.pathname)) return false;
      if (!sameOrigin(req)) return refuseUpgrade(socket, 403, 'Forbidden'), true;
      void (async () => {
        if (drillFeed) return drills!.upgrade(req, socket, head, url);
        // An instructor watching a learner's lab shell: on that learner's cell, whoever the instructor is.
        const watched = watchTarget('GET', url, 'upgrade');
        const watching = await watchPlacement(req, watched);
        if (watching) return watching.lost ? refuseUpgrade(socket, 410, 'Gone') : relayTo(req, socket, head, watching, watcherOf(watched!));
        const learner = await identify(req, { create: false });
        if (!learner) return refuseUpgrade(socket, 403, 'Forbidden');
        // A drill participant's shell (or one watched) lives on the drill's cell, not the learner's own.
        if (drills && (await drills.terminalUpgrade(req, socket, head, url, learner.id))) return;
        const { runId, kind } = learnerPlacement(learner.id);
        const placement = await registry.placementOf(runId, kind);
        // The terminal client retries a failed connect; a lost cell's session is gone for good.
        if (!placement) return refuseUpgrade(socket, 404, 'Not Found');
        if (placement.lost) return refuseUpgrade(socket, 410, 'Gone');
        relayTo(req, socket, head, placement, learner.id);
      })().catch(() => refuseUpgrade(socket, 503, 'Service Unavailable'));
      return true;
    },
  };
}
