import type { APIRoute } from 'astro';
import { endpointAddress } from '../../server/http/client-address.ts';
import { handleQuery } from '../../server/query/http.ts';
import { sourcesFor } from '../../server/query/learner-sources.ts';
import { currentLearner } from '../../server/learners/session.ts';

export const prerender = false;

/**
 * POST /api/query: run a query over an audit log source on the server (see src/server/query/http.ts),
 * in the query pool's worker threads; a learner (or address) has a few queries running at once.
 */
export const POST: APIRoute = async (context) => {
  const { request, cookies, url } = context;
  const { services } = context.locals;
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return Response.json({ ok: false, error: { message: 'the request body is not JSON', hint: 'send {"source": "...", "query": "..."}' } }, { status: 400 });
  }
  // "lab": the audit log of the requesting learner's own running lab cluster, nobody else's;
  // "drill:<id>": that drill's cluster, for its participants only (each with their own budget).
  const learner = await currentLearner(services.learners, cookies, url, { create: false });
  const admitted = services.limits.query({ learner: learner?.id, address: endpointAddress(context) }, services.config.query.budgetSeconds);
  if (!admitted.ok) {
    return Response.json(
      { ok: false, error: { message: admitted.reason, retryAfterSeconds: admitted.retryAfterSeconds } },
      { status: 429, headers: { 'retry-after': String(admitted.retryAfterSeconds), 'cache-control': 'no-store' } },
    );
  }
  try {
    const resolved = await sourcesFor(body, learner?.id, {
      file: services.config.query.auditLog,
      labAuditLog: async (id) => (await services.labs.clusterFor(id))?.auditLogPath,
      drillAuditLog: (drillId, learnerId) => services.drills.auditLog(drillId, learnerId ? { learnerId } : {}),
    });
    if ('refused' in resolved) return Response.json(resolved.refused.body, { status: resolved.refused.status, headers: { 'cache-control': 'no-store' } });
    const { sources } = resolved;
    const pool = services.queryPool();
    const answer = await handleQuery(body, sources, (job, signal) => pool.run(job, signal), request.signal);
    return Response.json(answer.body, { status: answer.status, headers: { 'cache-control': 'no-store', ...answer.headers } });
  } finally {
    admitted.release();
  }
};
