/**
 * Text output of the policy commands: problems through the project's friendly-error format,
 * the canonical table, and criteria.
 */
import { formatProblems, type ContentProblem } from '../content/friendly-errors.ts';
import type { CheckResult } from '../../lib/check-result.ts';
import type { CanonicalRequest } from '../../lib/audit-policy/canonical.ts';
import type { AuditLevel, PolicyProblem } from '../../lib/audit-policy/types.ts';

export function toContentProblems(file: string, problems: readonly PolicyProblem[]): ContentProblem[] {
  return problems.map((p) => ({
    file,
    path: p.path,
    message: p.message,
    ...(p.line === undefined ? {} : { line: p.line }),
    ...(p.column === undefined ? {} : { column: p.column }),
    ...(p.hint === undefined ? {} : { hint: p.hint }),
  }));
}

/** Errors as the refusal report; warnings under their own heading (the API server accepts them). */
export function formatPolicyProblems(file: string, errors: readonly PolicyProblem[], warnings: readonly PolicyProblem[]): string {
  const out: string[] = [];
  if (errors.length) {
    out.push(`kube-apiserver would refuse this policy (it would not start with it).\n${formatProblems(toContentProblems(file, errors))}`);
  }
  if (warnings.length) {
    const text = formatProblems(toContentProblems(file, warnings)).replace(/^\d+ problems? in \d+ files?:/, `${warnings.length} warning${warnings.length === 1 ? '' : 's'} (accepted by the API server, but probably not what you meant):`);
    out.push(text);
  }
  return out.join('\n\n');
}

export interface TableRow {
  request: CanonicalRequest;
  user: string;
  level: AuditLevel;
  passed?: boolean;
  /** `rules[0] (line 6)`, `no rule`, or empty when unknown. */
  rule: string;
  /** Live only: the stages recorded. */
  stages?: string;
}

export function formatTable(rows: readonly TableRow[], live = false): string {
  const header = ['request', 'as', 'level', 'needs', 'verdict', 'rule', ...(live ? ['stages recorded'] : [])];
  const body = rows.map((r) => [
    r.request.describe,
    r.request.as === 'admin' ? 'admin' : 'SA',
    r.level,
    r.request.minimum ? (r.request.minimum === 'RequestResponse' ? 'RequestResponse' : `>= ${r.request.minimum}`) : 'any',
    r.passed === undefined ? '-' : r.passed ? 'ok' : 'FAIL',
    r.rule,
    ...(live ? [r.stages ?? ''] : []),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

export function formatCriteria(result: CheckResult): string {
  const lines: string[] = [];
  for (const c of result.criteria) {
    lines.push(`${c.passed ? 'ok  ' : 'FAIL'} ${c.id}: ${c.message}`);
    if (c.warning) lines.push(`     WARNING: ${c.warning}`);
  }
  const passed = result.criteria.filter((c) => c.passed).length;
  lines.push('', `${passed} of ${result.criteria.length} criteria passed (score ${result.score}): ${result.passed ? 'PASS' : 'FAIL'}`);
  return lines.join('\n');
}
