/**
 * Which literal text a raw JSON line must contain for the query to possibly match it, so that a
 * scanner can skip JSON.parse for every other line. The answer is a conjunction of clauses, each a
 * set of alternatives: the line must contain at least one alternative of every clause.
 *
 * Why it is sound: a clause comes only from positive conditions (`==` and `in` on text; `exists`
 * and any other comparison but `!=` and `== null`, which need the field's key), never from under
 * NOT, `!=` or `not in`. Each literal is a run of SAFE characters taken from the
 * decoded value; a JSON encoder writes such characters as themselves except through `\/` or a
 * `\u00XX` escape of a safe character, and a scanner must parse any line holding one of those
 * (see `hidesSafeCharacter`), so a line that lacks the literal cannot hold the value.
 */
import type { Expr, Literal, Query } from './ast.ts';

/** A line must contain at least one of these strings. */
export type Clause = string[];

/** Characters every JSON encoder writes unescaped (Go escapes <, > and &; some encoders escape /). */
const SAFE = /[A-Za-z0-9 :._@=,+%~#$!;?()[\]{}'^`|/-]+/g;
const MIN_LITERAL = 3;

function longestRun(text: string): string | undefined {
  let best: string | undefined;
  for (const run of text.match(SAFE) ?? []) if (!best || run.length > best.length) best = run;
  return best && best.length >= MIN_LITERAL ? best : undefined;
}

/** The longest safe run of any fixed part of a (possibly wildcard) string literal. */
function literalOf(value: Literal, wildcards: boolean): string | undefined {
  if (value.kind !== 'string') return undefined;
  if (!wildcards || value.stars.length === 0) return longestRun(value.value);
  let best: string | undefined;
  let last = 0;
  for (const star of [...value.stars, value.value.length]) {
    const run = longestRun(value.value.slice(last, star));
    if (run && (!best || run.length > best.length)) best = run;
    last = star + 1;
  }
  return best;
}

/** The field's own key is in every line where the field has a value. */
function keyClause(path: readonly string[]): Clause[] {
  const key = longestRun(path[path.length - 1]!);
  return key ? [[key]] : [];
}

function clausesOf(expr: Expr): Clause[] {
  switch (expr.type) {
    case 'and':
      return expr.items.flatMap(clausesOf);
    case 'or': {
      // Every branch must contribute, else a line may match through the branch that requires nothing.
      const alternatives: string[] = [];
      for (const item of expr.items) {
        const best = bestClause(clausesOf(item));
        if (!best) return [];
        alternatives.push(...best);
      }
      return [[...new Set(alternatives)]];
    }
    case 'not':
      return [];
    case 'exists':
      return keyClause(expr.field.path);
    case 'in': {
      if (expr.negated) return [];
      const literals = expr.values.map((v) => literalOf(v, false));
      return literals.every((l): l is string => l !== undefined) ? [[...new Set(literals)]] : [];
    }
    case 'compare': {
      // `!=` and `== null` also match events without the field: nothing is required of the line.
      if (expr.op === '!=' || expr.value.kind === 'null') return [];
      const literal = expr.op === '==' ? literalOf(expr.value, true) : undefined;
      // Any other comparison holds only for a value the field has (true, 5, > "2026-..."), so
      // the field's key is in the line, as for `exists`.
      return literal ? [[literal]] : keyClause(expr.field.path);
    }
  }
}

/** The clause most likely to reject lines: fewest alternatives, then longest shortest literal. */
export function bestClause(clauses: readonly Clause[]): Clause | undefined {
  const score = (c: Clause) => Math.min(...c.map((l) => l.length)) / c.length;
  return [...clauses].sort((a, b) => score(b) - score(a))[0];
}

/**
 * Clauses for the whole query: its filter plus every `where` before the first aggregation or
 * `bin` (after those, `where` reads rows or computed windows, not raw event text).
 */
export function requiredLiterals(query: Query): Clause[] {
  const clauses = query.filter ? clausesOf(query.filter) : [];
  for (const stage of query.stages) {
    if (stage.type === 'where') clauses.push(...clausesOf(stage.expr));
    else if (stage.type !== 'head' && stage.type !== 'sort') break;
  }
  // Duplicate clauses cost a search each and reject nothing more.
  const seen = new Set<string>();
  return clauses.filter((c) => {
    const key = JSON.stringify([...c].sort());
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

const SAFE_CHAR = /[A-Za-z0-9 :._@=,+%~#$!;?()[\]{}'^`|/-]/;

/**
 * True when the raw text contains an escape that writes a safe character indirectly (`\/`, or
 * `\u00XX` of a safe character): such a line may hold a literal without showing it, so a scanner
 * must parse it. `\\` (an escaped backslash) is skipped so that `\\u0041` is not mistaken for one.
 */
export function hidesSafeCharacter(raw: string): boolean {
  let i = raw.indexOf('\\');
  while (i >= 0) {
    const next = raw[i + 1];
    if (next === '/') return true;
    if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(raw.slice(i + 2, i + 6))) {
      if (SAFE_CHAR.test(String.fromCharCode(parseInt(raw.slice(i + 2, i + 6), 16)))) return true;
    }
    i = raw.indexOf('\\', i + 2);
  }
  return false;
}

/** The pre-filter on one raw line: false only when the query cannot match it. */
export function lineMayMatch(raw: string, clauses: readonly Clause[]): boolean {
  for (const clause of clauses) {
    if (!clause.some((literal) => raw.includes(literal)) && !hidesSafeCharacter(raw)) return false;
  }
  return true;
}
