/**
 * Compiles a parsed condition into a predicate over one record (an audit event, or an aggregation
 * row). Semantics, shared by browser and server:
 * - a path through or onto an array yields every element; a condition holds if ANY element
 *   satisfies it (`user.groups == "system:nodes"`);
 * - `!=` and `not in` are the negations of `==` and `in`, so they also hold when the field is absent;
 * - `*` in a double-quoted string compared with == or != is a wildcard (any run of characters);
 * - text matches text, numbers match numbers, booleans match booleans: no silent conversions;
 * - `exists` holds when the field has a non-null value; `== null` when it has none;
 * - `<`, `<=`, `>`, `>=` on requestReceivedTimestamp, stageTimestamp and window compare times.
 */
import type { CompareOp, Expr, FieldRef, Literal } from './ast.ts';
import { QueryError } from './errors.ts';
import { formatPath } from './fields.ts';
import { MAX_TREE_DEPTH } from './limits.ts';
import { parseTimestamp } from './time.ts';

export type Predicate = (record: unknown) => boolean;
/** Reads a field of a record: nested objects for events, flat column names for rows. */
export type Resolver = (record: unknown, field: FieldRef) => unknown;

const TIME_FIELDS = new Set(['requestReceivedTimestamp', 'stageTimestamp', 'window']);

export const resolveNested: Resolver = (record, field) => lookup(record, field.path, 0);

export const resolveColumn: Resolver = (record, field) => (record as Record<string, unknown>)[field.text];

function lookup(value: unknown, path: readonly string[], from: number): unknown {
  let current = value;
  for (let i = from; i < path.length; i++) {
    if (current === null || typeof current !== 'object') return undefined;
    if (Array.isArray(current)) {
      const out: unknown[] = [];
      for (const item of current) {
        const v = lookup(item, path, i);
        if (Array.isArray(v)) out.push(...v);
        else if (v !== undefined) out.push(v);
      }
      return out;
    }
    current = (current as Record<string, unknown>)[path[i]!];
  }
  return current;
}

/** Calls `test` on every non-null value the field holds; true when any call is. */
function any(value: unknown, test: (v: unknown) => boolean): boolean {
  if (value === undefined || value === null) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (item !== null && item !== undefined && test(item)) return true;
    return false;
  }
  return test(value);
}

/** A matcher for a string with wildcard stars at the given indexes. */
export function wildcardMatcher(pattern: string, stars: readonly number[]): (text: string) => boolean {
  if (stars.length === 0) return (text) => text === pattern;
  const parts: string[] = [];
  let last = 0;
  for (const star of stars) {
    parts.push(pattern.slice(last, star));
    last = star + 1;
  }
  parts.push(pattern.slice(last));
  const head = parts[0]!;
  const tail = parts[parts.length - 1]!;
  const middle = parts.slice(1, -1).filter(Boolean);
  return (text) => {
    if (text.length < head.length + tail.length || !text.startsWith(head) || !text.endsWith(tail)) return false;
    let at = head.length;
    const end = text.length - tail.length;
    for (const part of middle) {
      const found = text.indexOf(part, at);
      if (found < 0 || found + part.length > end) return false;
      at = found + part.length;
    }
    return true;
  };
}

function equality(literal: Literal, wildcards: boolean): (v: unknown) => boolean {
  switch (literal.kind) {
    case 'string': {
      const match = wildcardMatcher(literal.value, wildcards ? literal.stars : []);
      return (v) => typeof v === 'string' && match(v);
    }
    case 'number':
      return (v) => v === literal.value;
    case 'bool':
      return (v) => v === literal.value;
    case 'null':
      return () => false;
  }
}

function ordering(field: FieldRef, op: CompareOp, literal: Literal): (v: unknown) => boolean {
  const holds = (diff: number) => (op === '<' ? diff < 0 : op === '<=' ? diff <= 0 : op === '>' ? diff > 0 : diff >= 0);
  if (literal.kind === 'number') return (v) => typeof v === 'number' && holds(v - literal.value);
  if (literal.kind !== 'string') return () => false;
  const isTime = TIME_FIELDS.has(field.path[field.path.length - 1]!) && field.path.length === 1;
  const bound = isTime ? parseTimestamp(literal.value) : undefined;
  if (bound !== undefined) {
    return (v) => {
      if (typeof v !== 'string') return false;
      const t = parseTimestamp(v);
      return t !== undefined && holds(t - bound);
    };
  }
  return (v) => typeof v === 'string' && holds(v < literal.value ? -1 : v > literal.value ? 1 : 0);
}

/**
 * The predicate of a condition. A predicate calls its children, so a tree deeper than the parser
 * produces (MAX_TREE_DEPTH) is refused here too: no record can make evaluation recurse further.
 */
export function compile(expr: Expr, resolve: Resolver = resolveNested, depth = 1): Predicate {
  if (depth > MAX_TREE_DEPTH) throw new QueryError(`this condition is nested more than ${MAX_TREE_DEPTH} levels deep`, 1, 1, 'remove redundant parentheses and NOTs');
  switch (expr.type) {
    case 'or': {
      const items = expr.items.map((item) => compile(item, resolve, depth + 1));
      return (r) => items.some((p) => p(r));
    }
    case 'and': {
      const items = expr.items.map((item) => compile(item, resolve, depth + 1));
      return (r) => items.every((p) => p(r));
    }
    case 'not': {
      const inner = compile(expr.expr, resolve, depth + 1);
      return (r) => !inner(r);
    }
    case 'exists': {
      const field = expr.field;
      return (r) => any(resolve(r, field), () => true);
    }
    case 'in': {
      const tests = expr.values.map((value) => (value.kind === 'null' ? null : equality(value, false)));
      const allowsNull = tests.includes(null);
      const field = expr.field;
      const positive = (r: unknown) => {
        const value = resolve(r, field);
        if (allowsNull && !any(value, () => true)) return true;
        return any(value, (v) => tests.some((t) => t !== null && t(v)));
      };
      return expr.negated ? (r) => !positive(r) : positive;
    }
    case 'compare': {
      const { field, op, value } = expr;
      if (op === '==' || op === '!=') {
        const positive: Predicate =
          value.kind === 'null' ? (r) => !any(resolve(r, field), () => true) : ((test) => (r: unknown) => any(resolve(r, field), test))(equality(value, true));
        return op === '==' ? positive : (r) => !positive(r);
      }
      const test = ordering(field, op, value);
      return (r) => any(resolve(r, field), test);
    }
  }
}

/** Every field a condition reads, as written (for "parse only what the query reads" and the UI). */
export function fieldsOf(expr: Expr | undefined, out = new Set<string>()): Set<string> {
  if (!expr) return out;
  if (expr.type === 'or' || expr.type === 'and') expr.items.forEach((item) => fieldsOf(item, out));
  else if (expr.type === 'not') fieldsOf(expr.expr, out);
  else out.add(formatPath(expr.field.path));
  return out;
}
