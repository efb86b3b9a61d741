/**
 * Translates a query's filter into the equivalent jq program, so that the benchmark compares
 * irlab and jq on exactly the same selection (same any-element, wildcard and presence rules).
 */
import type { Expr, FieldRef, Literal } from '../src/lib/query/ast.ts';

function values(field: FieldRef): string {
  const path = field.path.map((p) => `[${JSON.stringify(p)}]?`).join('');
  return `(.${path} | if type == "array" then .[] else . end)`;
}

function regexOf(literal: Extract<Literal, { kind: 'string' }>): string {
  let out = '';
  for (let i = 0; i < literal.value.length; i++) {
    const c = literal.value[i]!;
    out += c === '*' && literal.stars.includes(i) ? '.*' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return `^${out}$`;
}

function equals(literal: Literal, wildcards: boolean): string {
  if (literal.kind === 'string') {
    if (wildcards && literal.stars.length) return `(type == "string" and test(${JSON.stringify(regexOf(literal))}))`;
    return `. == ${JSON.stringify(literal.value)}`;
  }
  return `. == ${literal.kind === 'null' ? 'null' : JSON.stringify(literal.value)}`;
}

export function jqFilter(expr: Expr): string {
  switch (expr.type) {
    case 'and':
    case 'or':
      return `(${expr.items.map(jqFilter).join(` ${expr.type} `)})`;
    case 'not':
      return `(${jqFilter(expr.expr)} | not)`;
    case 'exists':
      return `any(${values(expr.field)}; . != null)`;
    case 'in': {
      const test = `any(${values(expr.field)}; ${expr.values.map((v) => `(${equals(v, false)})`).join(' or ')})`;
      return expr.negated ? `(${test} | not)` : test;
    }
    case 'compare': {
      if (expr.op === '==' || expr.op === '!=') {
        const test = expr.value.kind === 'null' ? `(any(${values(expr.field)}; . != null) | not)` : `any(${values(expr.field)}; ${equals(expr.value, true)})`;
        return expr.op === '!=' ? `(${test} | not)` : test;
      }
      const type = expr.value.kind === 'number' ? 'number' : 'string';
      return `any(${values(expr.field)}; type == "${type}" and . ${expr.op} ${JSON.stringify((expr.value as { value: unknown }).value)})`;
    }
  }
}
