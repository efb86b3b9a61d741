/**
 * One query of the query panel, as a job that can run anywhere: in a worker thread of the query
 * pool (the server, see query-pool.ts) or in this thread (tests). The job is plain data; the answer
 * is what POST /api/query returns: one page of results, the field sidebar, the per-minute
 * timeline, and which identities the built-in detections flag. Never anything from an answer key:
 * the timeline highlights what the learner marked and what detections flagged.
 */
import { DETECTIONS } from '../../lib/query/detections.ts';
import { compile } from '../../lib/query/evaluate.ts';
import { parseQuery } from '../../lib/query/parser.ts';
import { createRun, type QueryOutput } from '../../lib/query/pipeline.ts';
import { requiredLiterals } from '../../lib/query/prefilter.ts';
import { SummaryBuilder, type Summary } from '../../lib/query/summary.ts';
import { scanFile, type MalformedLine } from './scan.ts';

export interface QueryJob {
  /** The audit log on this host. */
  file: string;
  /** The query text (already parsed once by the caller, so it is known to be valid). */
  query: string;
  /** Usernames the learner marked, shaded in the timeline. */
  highlight: string[];
  /** At most this many events come back. */
  limit: number;
  /** Events whose userAgent is one of these are skipped before any query or detection sees them. */
  hideUserAgents?: string[];
}

export interface FlaggedIdentity {
  username: string;
  /** Ids of the detections that flagged it. */
  rules: string[];
}

export interface QueryAnswer {
  ok: true;
  output: QueryOutput;
  summary: Summary;
  flagged: FlaggedIdentity[];
  scan: { lines: number; bytes: number; malformed: number; malformedLines: MalformedLine[]; ms: number };
}

/** Collects usernames from detection output: matched events' user, or rows' user.username. */
function identitiesOf(output: QueryOutput): string[] {
  if (output.kind === 'events') return output.events.map((e) => (e as { user?: { username?: unknown } }).user?.username).filter((u): u is string => typeof u === 'string');
  return output.rows.map((r) => r['user.username']).filter((u): u is string => typeof u === 'string');
}

/** Runs the job; `signal` stops the scan between chunks (AbortSignal.timeout for a time budget). */
export async function runQueryJob(job: QueryJob, signal?: AbortSignal): Promise<QueryAnswer> {
  const query = parseQuery(job.query);
  const run = createRun(query, { keepEvents: job.limit });
  const filter = query.filter ? compile(query.filter) : () => true;
  const summary = new SummaryBuilder();
  const detections = DETECTIONS.map((rule) => {
    const q = parseQuery(rule.query);
    return { rule, query: q, run: createRun(q, { keepEvents: 10_000 }) };
  });
  const hidden = new Set(job.hideUserAgents ?? []);
  const shown = (event: unknown) => hidden.size === 0 || !hidden.has((event as { userAgent?: unknown }).userAgent as string);
  const started = performance.now();
  const report = await scanFile(
    job.file,
    [
      {
        clauses: requiredLiterals(query),
        push: (event) => {
          if (!shown(event)) return true;
          if (filter(event)) summary.add(event);
          return run.push(event);
        },
      },
      ...detections.map((d) => ({ clauses: requiredLiterals(d.query), push: (event: unknown) => !shown(event) || d.run.push(event) })),
    ],
    signal ? { signal } : {},
  );
  const flagged = new Map<string, Set<string>>();
  for (const d of detections) {
    for (const username of identitiesOf(d.run.finish())) {
      if (!flagged.has(username)) flagged.set(username, new Set());
      flagged.get(username)!.add(d.rule.id);
    }
  }
  return {
    ok: true,
    output: run.finish(),
    // Highlighted: what the learner marked, and what a detection flagged.
    summary: summary.result([...job.highlight, ...flagged.keys()]),
    flagged: [...flagged].map(([username, rules]) => ({ username, rules: [...rules] })),
    scan: { lines: report.lines, bytes: report.bytes, malformed: report.malformed, malformedLines: report.malformedLines, ms: Math.round(performance.now() - started) },
  };
}
