/**
 * Queries and detections over an audit log source: parse once, scan once, with the literal
 * pre-filter. Shared by the CLI and the HTTP endpoint.
 */
import { DETECTIONS, type DetectionRule } from '../../lib/query/detections.ts';
import { parseQuery } from '../../lib/query/parser.ts';
import { createRun, type QueryOutput, type RunOptions } from '../../lib/query/pipeline.ts';
import { requiredLiterals } from '../../lib/query/prefilter.ts';
import type { Query } from '../../lib/query/ast.ts';
import type { PartsOptions, QueryConsumer } from './parallel-scan.ts';
import type { AuditLogSource } from './source.ts';
import type { ScanReport } from './scan.ts';

export interface SourceScanOptions extends PartsOptions {
  /** Scan a big file in several threads when the results are the same (default true). */
  parts?: boolean;
}

/** One pass over the source for these queries: in parts when the source can, else in one. */
async function scanQueries(source: AuditLogSource, consumers: QueryConsumer[], options: SourceScanOptions): Promise<ScanReport> {
  const inParts = options.parts !== false && source.scanInParts ? await source.scanInParts(consumers, options) : undefined;
  return inParts ?? source.scan(consumers.map((c) => ({ clauses: requiredLiterals(c.query), push: (event: unknown) => c.push(event) })), options);
}

function consumer(query: Query, text: string, push: (event: unknown) => boolean): QueryConsumer {
  return { query, text, push };
}

export interface QueryResult {
  output: QueryOutput;
  report: ScanReport;
}

/** Runs query text over a source; throws QueryError (with column and hint) on a bad query. */
export async function runQueryOnSource(source: AuditLogSource, queryText: string, options: RunOptions & SourceScanOptions = {}): Promise<QueryResult> {
  const query = parseQuery(queryText);
  const run = createRun(query, options);
  const report = await scanQueries(source, [consumer(query, queryText, (event) => run.push(event))], options);
  return { output: run.finish(), report };
}

export interface DetectionResult {
  rule: DetectionRule;
  output: QueryOutput;
}

/** Every built-in detection in one pass over the source. */
export async function runDetections(source: AuditLogSource, options: SourceScanOptions & { rules?: readonly DetectionRule[] } = {}) {
  const rules = options.rules ?? DETECTIONS;
  const runs = rules.map((rule) => {
    const query = parseQuery(rule.query);
    return { rule, query, run: createRun(query) };
  });
  const report = await scanQueries(
    source,
    runs.map(({ rule, query, run }) => consumer(query, rule.query, (event) => run.push(event))),
    options,
  );
  const results: DetectionResult[] = runs.map(({ rule, run }) => ({ rule, output: run.finish() }));
  return { results, report };
}
