/** Endpoint plumbing for labs: JSON in and out, LabError as its status, anything else a 500. */
import { ClusterError, formatClusterError } from '../cluster/types.ts';
import { getLabService } from './instance.ts';
import { LabError, type LabService } from './service.ts';

function json(data: unknown, status = 200): Response {
  return new Response(JSON.stringify(data), { status, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' } });
}

export async function readBody(request: Request, limit = 16 * 1024): Promise<Record<string, unknown>> {
  const text = await request.text();
  if (text.length > limit) throw new LabError('request body too large', 413);
  if (!text.trim()) return {};
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    throw new LabError('the request body is not JSON', 400);
  }
}

export async function labRespond(run: (service: LabService) => Promise<unknown>): Promise<Response> {
  try {
    return json(await run(getLabService()));
  } catch (error) {
    if (error instanceof LabError) return json({ error: error.message }, error.status);
    if (error instanceof ClusterError) return json({ error: formatClusterError(error) }, 503);
    console.error('lab endpoint failed:', error);
    return json({ error: 'the lab service failed; the server log has the details' }, 500);
  }
}
