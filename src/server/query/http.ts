/**
 * The query panel's endpoint (POST /api/query): runs a query over an audit log source on the
 * server and returns one page of results, the field sidebar, the per-minute timeline, and which
 * identities the built-in detections flag. Never anything from an answer key: the timeline
 * highlights what the learner marked (`highlight`) and what detections flagged.
 */
import { z } from 'zod';
import { problemsFromZod, type ContentProblem } from '../content/friendly-errors.ts';
import { DETECTIONS } from '../../lib/query/detections.ts';
import { QueryError } from '../../lib/query/errors.ts';
import { compile } from '../../lib/query/evaluate.ts';
import { parseQuery } from '../../lib/query/parser.ts';
import { createRun, type QueryOutput } from '../../lib/query/pipeline.ts';
import { requiredLiterals } from '../../lib/query/prefilter.ts';
import { SummaryBuilder, type Summary } from '../../lib/query/summary.ts';
import type { MalformedLine } from './scan.ts';
import type { AuditLogSource } from './source.ts';

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

export interface FlaggedIdentity {
  username: string;
  /** Ids of the detections that flagged it. */
  rules: string[];
}

export type QueryResponse =
  | {
      ok: true;
      output: QueryOutput;
      summary: Summary;
      flagged: FlaggedIdentity[];
      scan: { lines: number; bytes: number; malformed: number; malformedLines: MalformedLine[]; ms: number };
    }
  | {
      ok: false;
      error: { message: string; column?: number; length?: number; hint?: string; problems?: ContentProblem[] };
    };

export interface SourceRegistry {
  get(id: string): AuditLogSource | undefined;
  ids(): string[];
}

export function registry(sources: AuditLogSource[]): SourceRegistry {
  const byId = new Map(sources.map((s) => [s.id, s]));
  return { get: (id) => byId.get(id), ids: () => [...byId.keys()] };
}

/** Collects usernames from detection output: matched events' user, or rows' user.username. */
function identitiesOf(output: QueryOutput): string[] {
  if (output.kind === 'events') return output.events.map((e) => (e as { user?: { username?: unknown } }).user?.username).filter((u): u is string => typeof u === 'string');
  return output.rows.map((r) => r['user.username']).filter((u): u is string => typeof u === 'string');
}

export async function handleQuery(body: unknown, sources: SourceRegistry): Promise<{ status: number; body: QueryResponse }> {
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
  let query;
  try {
    query = parseQuery(request.query);
  } catch (error) {
    if (error instanceof QueryError) return { status: 400, body: { ok: false, error: { message: error.message, column: error.column, length: error.length, hint: error.hint } } };
    throw error;
  }
  const run = createRun(query, { keepEvents: request.limit });
  const filter = query.filter ? compile(query.filter) : () => true;
  const summary = new SummaryBuilder();
  const detections = DETECTIONS.map((rule) => {
    const q = parseQuery(rule.query);
    return { rule, query: q, run: createRun(q, { keepEvents: 10_000 }) };
  });
  const started = performance.now();
  const report = await source.scan([
    {
      clauses: requiredLiterals(query),
      push: (event) => {
        if (filter(event)) summary.add(event);
        return run.push(event);
      },
    },
    ...detections.map((d) => ({ clauses: requiredLiterals(d.query), push: (event: unknown) => d.run.push(event) })),
  ]);
  const flagged = new Map<string, Set<string>>();
  for (const d of detections) {
    for (const username of identitiesOf(d.run.finish())) {
      if (!flagged.has(username)) flagged.set(username, new Set());
      flagged.get(username)!.add(d.rule.id);
    }
  }
  return {
    status: 200,
    body: {
      ok: true,
      output: run.finish(),
      // Highlighted: what the learner marked, and what a detection flagged.
      summary: summary.result([...request.highlight, ...flagged.keys()]),
      flagged: [...flagged].map(([username, rules]) => ({ username, rules: [...rules] })),
      scan: { lines: report.lines, bytes: report.bytes, malformed: report.malformed, malformedLines: report.malformedLines, ms: Math.round(performance.now() - started) },
    },
  };
}
