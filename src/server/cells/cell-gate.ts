/**
 * A cell's door: the cluster-bound routes (cluster-routes.ts) are served only for requests a front
 * proxied, proven by a valid `x-irlab-forward` header for this cell (forward-auth.ts). The learner
 * is the one the header names; any cookie is dropped, so a browser reaching a cell directly (or a
 * front's header replayed) gets a 403 and never acts as anyone. The client address is the one the
 * header names too (the browser's, as its front saw it): per-address budgets charge the browser,
 * not the front (client-address.ts).
 */
import type { IncomingMessage } from 'node:http';
import { trustForwardedAddress } from '../http/client-address.ts';
import type { LearnerService } from '../learners/learners.ts';
import type { SqlStore } from '../store/sql-store.ts';
import { classWatchRoute, clusterRoute, drillRoute, drillSocket, isClusterSocket, isQueryRoute, NO_LEARNER, watchedBy, watchTarget } from './cluster-routes.ts';
import { FORWARD_HEADER, type ForwardRefusal, type ForwardVerifier } from './forward-auth.ts';

/** `watching`: the request is an instructor's watch of this learner's lab shell, checked by the front (cluster-routes.ts `watcherOf`). */
export type GateVerdict = { ok: true; learnerId: string; watching?: string } | { ok: false; status: 403; error: string };

export interface CellGate {
  /** Undefined: not a cluster-bound request (the cell serves it as any server). */
  admit(req: IncomingMessage, kind: 'http' | 'upgrade'): GateVerdict | undefined;
  /** The learner a request admitted above is for. */
  learnerOf(req: IncomingMessage): string | undefined;
  /** The learner service as a forwarded request's endpoints see it: the session is the header's learner. */
  learnersFor(learnerId: string): LearnerService;
}

const REASONS: Record<ForwardRefusal, string> = {
  missing: 'it has no x-irlab-forward header',
  malformed: 'its x-irlab-forward header is malformed',
  'wrong-cell': 'its x-irlab-forward header was made for another cell',
  expired: 'its x-irlab-forward header has expired',
  'bad-signature': 'its x-irlab-forward header is not signed with the key fronts and cells share',
  replayed: 'its x-irlab-forward header was used before',
  busy: 'this cell remembers too many forwarded requests at once; try again shortly',
};

export function cellGate({ verifier, db, learners }: { verifier: ForwardVerifier; db: SqlStore; learners: LearnerService }): CellGate {
  const admitted = new WeakMap<IncomingMessage, string>();
  return {
    admit(req, kind) {
      const url = new URL(req.url ?? '/', 'http://cell');
      const bound = kind === 'upgrade'
        ? isClusterSocket(url.pathname) || drillSocket(url.pathname) !== undefined
        : clusterRoute(req.method, url.pathname) !== undefined || drillRoute(req.method, url.pathname) !== undefined || isQueryRoute(req.method, url.pathname) || classWatchRoute(req.method, url.pathname) !== undefined;
      if (!bound) return undefined;
      const verdict = verifier.verify(req.headers[FORWARD_HEADER], { method: req.method ?? 'GET', path: req.url ?? '/' });
      // Identity comes from the header only.
      delete req.headers.cookie;
      if (!verdict.ok) return { ok: false, status: 403, error: `This cell serves labs, terminals and drills only through a front, and this request was refused: ${REASONS[verdict.reason]}. Open irlab at its public address.` };
      // A watcher principal watches the one learner it names, on the watch endpoint or a watch socket only
      // (the path, `learner` included, is signed: it cannot be moved to another learner or request).
      const watching = watchedBy(verdict.learnerId);
      if (watching !== undefined && watchTarget(req.method, url, kind) !== watching) return { ok: false, status: 403, error: 'An instructor\'s forwarded watch may only read the lab terminal of the learner it names.' };
      // Admitted either way; a facilitator with no learner session is nobody here (their token is checked).
      if (verdict.learnerId !== NO_LEARNER) admitted.set(req, verdict.learnerId);
      trustForwardedAddress(req, verdict.address);
      return { ok: true, learnerId: verdict.learnerId, ...(watching !== undefined ? { watching } : {}) };
    },
    learnerOf: (req) => admitted.get(req),
    learnersFor(learnerId) {
      return {
        ...learners,
        async fromSession() {
          if (learnerId === NO_LEARNER) return undefined;
          const row = await db.get<{ id: string; display_name: string | null; created_at: string }>('SELECT id, display_name, created_at FROM learners WHERE id = ?', [learnerId]);
          return row ? { id: row.id, displayName: row.display_name ?? undefined, createdAt: row.created_at } : undefined;
        },
        create() {
          return Promise.reject(new Error(`a forwarded request for learner ${learnerId} cannot create a learner (the front does)`));
        },
      };
    },
  };
}
