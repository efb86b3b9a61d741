/**
 * Queries and detections over an audit log source: parse once, scan once, with the literal
 * pre-filter. Shared by the CLI and the HTTP endpoint.
 */
import { DETECTIONS, type DetectionRule } from '../../lib/query/detections.ts';
import { parseQuery } from '../../lib/query/parser.ts';
import { createRun, type QueryOutput, type RunOptions } from '../../lib/query/pipeline.ts';
import { requiredLiterals } from '../../lib/query/prefilter.ts';
import type { AuditLogSource } from './source.ts';
import type { ScanOptions, ScanReport } from './scan.ts';

export interface QueryResult {
  output: QueryOutput;
  report: ScanReport;
}

/** Runs query text over a source; throws QueryError (with column and hint) on a bad query. */
export async function runQueryOnSource(source: AuditLogSource, queryText: string, options: RunOptions & ScanOptions = {}): Promise<QueryResult> {
  const query = parseQuery(queryText);
  const run = createRun(query, options);
  const report = await source.scan([{ clauses: requiredLiterals(query), push: (event) => run.push(event) }], options);
  return { output: run.finish(), report };
}

export interface DetectionResult {
  rule: DetectionRule;
  output: QueryOutput;
}

/** Every built-in detection in one pass over the source. */
export async function runDetections(source: AuditLogSource, options: ScanOptions & { rules?: readonly DetectionRule[] } = {}) {
  const rules = options.rules ?? DETECTIONS;
  const runs = rules.map((rule) => {
    const query = parseQuery(rule.query);
    return { rule, query, run: createRun(query) };
  });
  const report = await source.scan(
    runs.map(({ query, run }) => ({ clauses: requiredLiterals(query), push: (event: unknown) => run.push(event) })),
    options,
  );
  const results: DetectionResult[] = runs.map(({ rule, run }) => ({ rule, output: run.finish() }));
  return { results, report };
}
