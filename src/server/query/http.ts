/**
 * The query panel's endpoint (POST /api/query): validates the request, parses the query (a bad
 * one is a 400 at its column, at once), then hands the job to an evaluator: the server's pool of
 * worker threads (query-pool.ts), with a time budget, or this thread in tests. What the answer
 * holds is in query-job.ts.
 */
import { z } from 'zod';
import { problemsFromZod, type ContentProblem } from '../content/friendly-errors.ts';
import { QueryError } from '../../lib/query/errors.ts';
import { parseQuery } from '../../lib/query/parser.ts';
import { runQueryJob, type QueryAnswer, type QueryJob } from './query-job.ts';
import type { FileAuditLogSource } from './source.ts';
import { isPoolRefusal } from './worker-pool.ts';

export type { FlaggedIdentity } from './query-job.ts';

export const queryRequestSchema = z
  .object({
    /** Which audit log to query: the id of a source the server knows (see `SourceRegistry`). */
    source: z.string().min(1).max(200),
    /** The query, in the language of docs/query.md. Empty means every event. */
    query: z.string().max(10_000),
    /** Usernames the learner marked, shaded in the timeline. */
    highlight: z.array(z.string().max(400)).max(20).default([]),
    /** At most this many events come back (the total is still counted). */
    limit: z.number().int().min(1).max(1000).default(200),
  })
  .strict();

export type QueryRequest = z.input<typeof queryRequestSchema>;

export type QueryResponse =
  | QueryAnswer
  | {
      ok: false;
      error: { message: string; column?: number; length?: number; hint?: string; problems?: ContentProblem[]; retryAfterSeconds?: number };
    };

export interface SourceRegistry {
  get(id: string): FileAuditLogSource | undefined;
  ids(): string[];
}

export function registry(sources: FileAuditLogSource[]): SourceRegistry {
  const byId = new Map(sources.map((s) => [s.id, s]));
  return { get: (id) => byId.get(id), ids: () => [...byId.keys()] };
}

/** Runs a job to its answer; rejects with a PoolRefusal when it cannot (busy, over budget). */
export type QueryEvaluator = (job: QueryJob, signal?: AbortSignal) => Promise<QueryAnswer>;

/** In this thread: for tests and tools, never for the server (a long scan would block its event loop). */
export const evaluateHere: QueryEvaluator = (job, signal) => runQueryJob(job, signal);

export interface QueryHttpAnswer {
  status: number;
  body: QueryResponse;
  headers?: Record<string, string>;
}

const NARROW = 'narrow the query: add a condition such as user.username == "..." or verb == "...", or end it with | head 100';

export async function handleQuery(body: unknown, sources: SourceRegistry, evaluate: QueryEvaluator = evaluateHere, signal?: AbortSignal): Promise<QueryHttpAnswer> {
  const parsed = queryRequestSchema.safeParse(body, { reportInput: true });
  if (!parsed.success) {
    const problems = problemsFromZod('request body', queryRequestSchema, parsed.error.issues);
    return { status: 400, body: { ok: false, error: { message: problems.map((p) => `${p.path || 'body'}: ${p.message}`).join('; '), problems } } };
  }
  const request = parsed.data;
  const source = sources.get(request.source);
  if (!source) {
    const known = sources.ids();
    return {
      status: 404,
      body: { ok: false, error: { message: `no audit log source "${request.source}"`, hint: known.length ? `known sources: ${known.join(', ')}` : 'start a lab cluster, or start the server with IRLAB_AUDIT_LOG=/path/to/audit.log' } },
    };
  }
  try {
    parseQuery(request.query);
  } catch (error) {
    if (error instanceof QueryError) return { status: 400, body: { ok: false, error: { message: error.message, column: error.column, length: error.length, hint: error.hint } } };
    throw error;
  }
  try {
    return { status: 200, body: await evaluate({ file: source.file, query: request.query, highlight: request.highlight, limit: request.limit, ...(source.hideUserAgents.length ? { hideUserAgents: [...source.hideUserAgents] } : {}) }, signal) };
  } catch (error) {
    if (!isPoolRefusal(error)) throw error;
    const { retryAfterSeconds } = error;
    const hint = error.kind === 'time' || error.kind === 'memory' ? NARROW : error.kind === 'busy' ? 'run it again in a moment' : undefined;
    const status = error.kind === 'failed' ? 500 : 503;
    return {
      status,
      body: { ok: false, error: { message: error.message, ...(hint ? { hint } : {}), ...(status === 503 ? { retryAfterSeconds } : {}) } },
      headers: status === 503 ? { 'retry-after': String(retryAfterSeconds) } : {},
    };
  }
}
