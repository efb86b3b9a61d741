/**
 * What every JSON endpoint shares (Astro's under src/pages/api and irlab's own routes): bodies
 * read with a size limit, and errors answered with the status they carry. An error branded with a
 * status (src/lib/error-status.ts: LabError, DrillError, QuizError, ClusterError...) reaches the
 * client as that status with its message and hint; anything else is logged on one line and
 * answered 500 with a reason, never a stack.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { brandStatus, hintOf, httpStatusOf } from '../../lib/error-status.ts';

/** Largest request body the server reads at all (serve.ts refuses longer ones before routing). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** An error a client caused, with its status. */
export function httpError(status: number, message: string): Error {
  const error = new Error(message);
  error.name = 'HttpError';
  brandStatus(error, status);
  return error;
}

export function json(data: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(data), { status, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers } });
}

/** The request's body as text, refused with a 413 past `limit` bytes (read no further). */
export async function readText(request: Request, limit: number): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? 0);
  if (declared > limit) throw httpError(413, `the request body is larger than ${limit} bytes`);
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      // Past the limit the rest is read and dropped (the adapter stops at MAX_BODY_BYTES): a
      // socket closed on unread bytes is reset, and the client would lose the 413 with it.
      if (size <= limit) chunks.push(value);
    }
  } catch (error) {
    if (httpStatusOf(error)) throw error;
    // The client went away mid-body, or the adapter's own limit cut it off.
    if (size > limit) throw httpError(413, `the request body is larger than ${limit} bytes`);
    throw httpError(400, `the request body could not be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (size > limit) throw httpError(413, `the request body is larger than ${limit} bytes`);
  return Buffer.concat(chunks).toString('utf8');
}

/** The body as any JSON value (undefined when empty); a 400 saying so when it is not JSON. */
export async function readJsonValue(request: Request, limit: number): Promise<unknown> {
  const text = await readText(request, limit);
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw httpError(400, 'the request body is not JSON');
  }
}

/** The body as a JSON object ({} when empty); a 400 for anything else. */
export async function readJsonObject(request: Request, limit = 16 * 1024): Promise<Record<string, unknown>> {
  const value = await readJsonValue(request, limit);
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw httpError(400, 'the request body must be a JSON object');
  return value as Record<string, unknown>;
}

/** One log line for an error nobody expected: what, where (the innermost frame), no more. */
export function logUnexpected(where: string, error: unknown): void {
  const frame = error instanceof Error ? error.stack?.split('\n').find((line) => line.trim().startsWith('at '))?.trim() : undefined;
  const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  console.error(`irlab: ${where} failed: ${what.replace(/\s+/g, ' ').slice(0, 500)}${frame ? ` (${frame})` : ''}`);
}

/**
 * The response for `error`: its own status, message and hint when it carries a status, else a 500
 * whose body says `unexpected` and where to look. `extra` adds fields to a known error's body.
 */
export function errorResponse(error: unknown, where: string, unexpected: string, extra: (error: unknown) => Record<string, unknown> = () => ({})): Response {
  const status = httpStatusOf(error);
  if (status === undefined) {
    logUnexpected(where, error);
    return json({ error: unexpected, hint: 'the server log has the details' }, 500);
  }
  if (status >= 500) logUnexpected(where, error);
  const hint = hintOf(error);
  return json({ error: error instanceof Error ? error.message : String(error), ...(hint ? { hint } : {}), ...extra(error) }, status);
}

/**
 * Answers 413 to a request whose declared body is over MAX_BODY_BYTES, after reading and dropping
 * it when it is not absurdly long (16 MiB): closing a socket with unread bytes resets it, and the
 * client would see the reset instead of the answer.
 */
export function refuseBody(req: IncomingMessage, res: ServerResponse): void {
  const answer = () => sendJson(res, 413, { error: `the request body is larger than ${MAX_BODY_BYTES} bytes` }, { connection: 'close' });
  if (Number(req.headers['content-length']) > 16 * MAX_BODY_BYTES) return answer();
  req.on('end', answer);
  req.on('error', () => res.destroy());
  req.resume();
}

/** A JSON answer on a raw Node response (irlab's own routes in serve.ts). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

/** A 500 with a reason for a request whose handler threw; if an answer had started, the connection ends. */
/**
 * A raw route's whole body, or undefined past `limit` bytes (the rest is read and dropped, so the
 * socket stays usable for the answer): for a front that must look into a body before it routes it.
 */
export function readBoundedBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(size <= limit ? Buffer.concat(chunks) : undefined));
    req.on('error', reject);
  });
}

export function internalError(res: ServerResponse, where: string, error: unknown): void {
  logUnexpected(where, error);
  if (res.headersSent) return void res.destroy();
  sendJson(res, 500, { error: `${where} failed`, hint: 'the server log has the details' });
}
