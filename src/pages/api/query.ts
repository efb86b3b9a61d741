import type { APIRoute } from 'astro';
import { handleQuery } from '../../server/query/http.ts';
import { serverSources } from '../../server/query/sources.ts';
import { FileAuditLogSource } from '../../server/query/source.ts';
import { getLabService } from '../../server/lab/instance.ts';
import { currentLearner } from '../../server/learners/session.ts';

export const prerender = false;

/** POST /api/query: run a query over an audit log source on the server (see src/server/query/http.ts). */
export const POST: APIRoute = async ({ request, cookies, url }) => {
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return Response.json({ ok: false, error: { message: 'the request body is not JSON', hint: 'send {"source": "...", "query": "..."}' } }, { status: 400 });
  }
  // "lab": the audit log of the requesting learner's own running lab cluster, nobody else's.
  const learner = currentLearner(cookies, url, { create: false });
  const lab = learner ? await getLabService().clusterFor(learner.id) : undefined;
  const sources = serverSources(process.env, lab ? [new FileAuditLogSource(lab.auditLogPath, 'lab')] : []);
  const { status, body: response } = await handleQuery(body, sources);
  return Response.json(response, { status, headers: { 'cache-control': 'no-store' } });
};
