import type { APIRoute } from 'astro';
import { handleQuery } from '../../server/query/http.ts';
import { serverSources } from '../../server/query/sources.ts';

export const prerender = false;

/** POST /api/query: run a query over an audit log source on the server (see src/server/query/http.ts). */
export const POST: APIRoute = async ({ request }) => {
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return Response.json({ ok: false, error: { message: 'the request body is not JSON', hint: 'send {"source": "...", "query": "..."}' } }, { status: 400 });
  }
  const { status, body: response } = await handleQuery(body, serverSources());
  return Response.json(response, { status, headers: { 'cache-control': 'no-store' } });
};
