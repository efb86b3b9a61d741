/**
 * A front's share of `POST /api/query` (docs/deploy.md, "Fronts and cells"): a query of the
 * learner's lab audit log (source `lab`) or of a drill's (`drill:<id>`) reads a file on the cell
 * that holds that cluster, so the front sends it there; any other source (the server's own `file`)
 * it answers itself. The source is in the JSON body, so the front reads the body first (bounded),
 * and hands it on: to the cell in the proxied request, or to its own endpoint as `req.body`, which
 * Astro's Node adapter reads instead of the stream.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { learnerPlacement } from '../cells/cluster-routes.ts';
export { isQueryRoute } from '../cells/cluster-routes.ts';
import type { CellRegistry, Placement } from '../cells/registry.ts';
import { MAX_BODY_BYTES, readBoundedBody, sendJson } from '../http/endpoint.ts';
import type { Identify } from '../http/terminal-routes.ts';
import { drillOfSource } from '../query/learner-sources.ts';
import type { DrillFront } from './drill-front.ts';

type Proxy = (req: IncomingMessage, res: ServerResponse, placement: Placement, learnerId: string, body: Buffer) => Promise<unknown>;

/** The body's `source` when it is JSON with one; anything else is the front's own endpoint's to refuse. */
function sourceOf(body: Buffer): unknown {
  try {
    return (JSON.parse(body.toString('utf8')) as { source?: unknown } | null)?.source;
  } catch {
    return undefined;
  }
}

export function queryFront({ registry, identify, proxy, drills, lostMessage }: { registry: CellRegistry; identify: Identify; proxy: Proxy; drills: DrillFront | undefined; lostMessage: string }) {
  return {
    /** True when answered here (sent to a cell, or refused); false: the front's endpoint answers, with `req.body` set. */
    async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
      const body = await readBoundedBody(req, MAX_BODY_BYTES);
      if (!body) return sendJson(res, 413, { error: `the request body is larger than ${MAX_BODY_BYTES} bytes` }), true;
      (req as IncomingMessage & { body?: Buffer }).body = body;
      const source = sourceOf(body);
      const drillId = drillOfSource(source);
      if (drillId !== undefined && drills) return await drills.forward(req, res, drillId, body), true;
      if (source !== 'lab') return false;
      const learner = await identify(req, { create: false });
      if (!learner) return false;
      const { runId, kind } = learnerPlacement(learner.id);
      const placement = await registry.placementOf(runId, kind);
      // Not placed: no lab is going, which the front's endpoint says as one process would.
      if (!placement) return false;
      if (placement.lost) return sendJson(res, 503, { ok: false, error: { message: lostMessage }, lost: true }), true;
      await proxy(req, res, placement, learner.id, body);
      return true;
    },
  };
}
