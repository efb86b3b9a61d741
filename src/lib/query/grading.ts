/**
 * Which events a query flags, and how well that set matches an answer key. For a plain filter the
 * flagged events are its matches; for an aggregation they are the events that make up the rows
 * that survive to the output (e.g. every secret read of an identity whose distinct-namespace
 * count crossed the threshold). Used by the lab's grader (issue 7) on the server only.
 */
import type { FieldRef, Query } from './ast.ts';
import { resolveNested } from './evaluate.ts';
import { createRun, runQuery } from './pipeline.ts';

function eventQuery(query: Query, stages: Query['stages']): Query {
  return { ...query, stages };
}

/** The events (from `events`) that a query's output is made of. */
export function flaggedEvents(query: Query, events: readonly unknown[]): unknown[] {
  const aggregation = query.stages.findIndex((s) => s.type === 'count' || s.type === 'dc');
  if (aggregation < 0) {
    const output = runQuery(query, events);
    return output.kind === 'events' ? output.events : [];
  }
  if (query.stages.slice(aggregation + 1).some((s) => s.type === 'count' || s.type === 'dc' || s.type === 'bin')) {
    throw new Error('a detection can aggregate once: write one count or dc stage');
  }
  const stage = query.stages[aggregation] as Extract<Query['stages'][number], { type: 'count' | 'dc' }>;
  const output = runQuery(query, events);
  if (output.kind !== 'rows') return [];
  const keyColumns = output.columns.slice(0, -1);
  const surviving = new Set(output.rows.map((row) => JSON.stringify(keyColumns.map((c) => row[c] ?? null))));
  // The same events, with windows attached, before the aggregation.
  const before = createRun(eventQuery(query, query.stages.slice(0, aggregation).filter((s) => s.type !== 'head' && s.type !== 'sort')));
  for (const event of events) before.push(event);
  const matched = before.finish();
  const windowed = keyColumns[0] === 'window' && !stage.by.some((f) => f.text === 'window');
  const valuesOf = (record: unknown, field: FieldRef): unknown[] => {
    const v = resolveNested(record, field);
    return Array.isArray(v) ? (v.length ? v : [null]) : [v ?? null];
  };
  return (matched.kind === 'events' ? matched.events : []).filter((record) => {
    let keys: unknown[][] = [windowed ? [(record as { window?: unknown }).window ?? null] : []];
    for (const field of stage.by) keys = keys.flatMap((k) => valuesOf(record, field).map((v) => [...k, v]));
    return keys.some((key) => surviving.has(JSON.stringify(key)));
  });
}

export interface Grade {
  /** Share of flagged requests that are the attacker's (1 when nothing is flagged and nothing should be). */
  precision: number;
  /** Share of the attacker's requests that were flagged. */
  recall: number;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
}

/** Precision and recall over distinct auditIDs (the stages of one request count once). */
export function gradeDetection(query: Query, events: readonly unknown[], attackerAuditIds: ReadonlySet<string>): Grade {
  const flagged = new Set<string>();
  for (const event of flaggedEvents(query, events)) {
    const id = (event as { auditID?: unknown }).auditID;
    if (typeof id === 'string') flagged.add(id);
  }
  let truePositives = 0;
  for (const id of flagged) if (attackerAuditIds.has(id)) truePositives++;
  const falsePositives = flagged.size - truePositives;
  const falseNegatives = attackerAuditIds.size - truePositives;
  return {
    precision: flagged.size === 0 ? (attackerAuditIds.size === 0 ? 1 : 0) : truePositives / flagged.size,
    recall: attackerAuditIds.size === 0 ? 1 : truePositives / attackerAuditIds.size,
    truePositives,
    falsePositives,
    falseNegatives,
  };
}
