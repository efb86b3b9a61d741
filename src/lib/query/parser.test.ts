import { describe, expect, it } from 'vitest';
import type { Expr } from './ast.ts';
import { formatQueryError, QueryError } from './errors.ts';
import { MAX_NESTING, MAX_QUERY_LENGTH, MAX_STAGES } from './limits.ts';
import { parseQuery } from './parser.ts';

/** A compact picture of the tree: and(...), or(...), not(...), field op value. */
function shape(expr: Expr | undefined): string {
  if (!expr) return '*';
  switch (expr.type) {
    case 'and':
    case 'or':
      return `${expr.type}(${expr.items.map(shape).join(', ')})`;
    case 'not':
      return `not(${shape(expr.expr)})`;
    case 'exists':
      return `${expr.field.path.join('|')} exists`;
    case 'in':
      return `${expr.field.path.join('|')} ${expr.negated ? 'not in' : 'in'} [${expr.values.map((v) => JSON.stringify((v as { value?: unknown }).value ?? null)).join(',')}]`;
    case 'compare':
      return `${expr.field.path.join('|')} ${expr.op} ${JSON.stringify((expr.value as { value?: unknown }).value ?? null)}`;
  }
}

function errorOf(query: string): QueryError {
  try {
    parseQuery(query);
  } catch (error) {
    if (error instanceof QueryError) return error;
    throw error;
  }
  throw new Error(`expected "${query}" to be refused`);
}

describe('precedence', () => {
  it('binds NOT tightest, then AND, then OR', () => {
    expect(shape(parseQuery('verb == "a" OR verb == "b" AND NOT verb == "c"').filter)).toBe('or(verb == "a", and(verb == "b", not(verb == "c")))');
  });
  it('reads NOT x == y as NOT (x == y), and NOT before in as NOT (in)', () => {
    expect(shape(parseQuery('NOT user.username == "system:admin"').filter)).toBe('not(user|username == "system:admin")');
    expect(shape(parseQuery('NOT user.username in ("a", "b")').filter)).toBe('not(user|username in ["a","b"])');
    expect(shape(parseQuery('NOT objectRef.subresource exists').filter)).toBe('not(objectRef|subresource exists)');
  });
  it('lets parentheses override', () => {
    expect(shape(parseQuery('(verb == "a" OR verb == "b") AND responseStatus.code == 403').filter)).toBe(
      'and(or(verb == "a", verb == "b"), responseStatus|code == 403)',
    );
    expect(shape(parseQuery('NOT (verb == "a" OR verb == "b")').filter)).toBe('not(or(verb == "a", verb == "b"))');
  });
  it('accepts keywords in any case', () => {
    expect(shape(parseQuery('verb == "a" and not verb == "b" Or objectRef.name Exists').filter)).toBe('or(and(verb == "a", not(verb == "b")), objectRef|name exists)');
    expect(shape(parseQuery('verb NOT IN ("a") and verb In ("b")').filter)).toBe('and(verb not in ["a"], verb in ["b"])');
  });
  it('parses the lesson query', () => {
    const q = parseQuery(`user.username == "system:serviceaccount:production:web-app"
AND verb in ("create", "patch", "delete")
AND objectRef.resource in ("secrets", "roles", "clusterroles")`);
    expect(shape(q.filter)).toBe('and(user|username == "system:serviceaccount:production:web-app", verb in ["create","patch","delete"], objectRef|resource in ["secrets","roles","clusterroles"])');
  });
});

describe('values and quoting', () => {
  it('reads quoted keys with dots and slashes as one path segment', () => {
    const q = parseQuery('annotations."authorization.k8s.io/decision" == "forbid"');
    expect(shape(q.filter)).toBe('annotations|authorization.k8s.io/decision == "forbid"');
  });
  it('decodes escapes and remembers which stars are wildcards', () => {
    const q = parseQuery('userAgent == "say \\"hi\\" \\\\ a\\*b*"');
    const expr = q.filter as Extract<Expr, { type: 'compare' }>;
    expect(expr.value).toEqual({ kind: 'string', value: 'say "hi" \\ a*b*', stars: [14] });
  });
  it('reads numbers, booleans and null', () => {
    expect(shape(parseQuery('responseStatus.code >= 400 AND requestObject.spec.hostPID == true AND objectRef.name == null').filter)).toBe(
      'and(responseStatus|code >= 400, requestObject|spec|hostPID == true, objectRef|name == null)',
    );
  });
  it('reads an empty query and a query that starts with a pipe as "every event"', () => {
    expect(parseQuery('').filter).toBeUndefined();
    expect(parseQuery('| count').stages).toEqual([{ type: 'count', by: [] }]);
  });
});

describe('stages', () => {
  it('parses every stage', () => {
    const q = parseQuery('verb == "get" | where responseStatus.code == 403 | bin 5m | dc(objectRef.namespace) by user.username | where dc > 3 | sort -dc | head 5');
    expect(q.stages.map((s) => s.type)).toEqual(['where', 'bin', 'dc', 'where', 'sort', 'head']);
    expect(q.stages[1]).toMatchObject({ type: 'bin', ms: 300_000 });
    expect(q.stages[4]).toMatchObject({ type: 'sort', descending: true, field: { text: 'dc' } });
    expect(q.stages[5]).toEqual({ type: 'head', n: 5 });
  });
  it('counts by several fields and defaults head to 10', () => {
    const q = parseQuery('| count by user.username, verb | head');
    expect(q.stages[0]).toMatchObject({ type: 'count', by: [{ text: 'user.username' }, { text: 'verb' }] });
    expect(q.stages[1]).toEqual({ type: 'head', n: 10 });
  });
  it('after an aggregation, only its columns are fields', () => {
    expect(errorOf('| count by verb | where user.username == "x"')).toMatchObject({ message: 'unknown field "user.username"' });
    expect(() => parseQuery('| bin 1h | count by verb | where window >= "2026-11-27T10:00:00Z" AND count > 3')).not.toThrow();
  });
});

describe('errors point at the mistake and suggest a fix', () => {
  const cases: [string, number, RegExp, RegExp?][] = [
    ['verb == "get" ANDD verb == "list"', 15, /unknown keyword "ANDD"/, /did you mean AND\?/],
    ['objectRef.resouce == "secrets"', 1, /unknown field "objectRef.resouce"/, /objectRef.resource/],
    ['user.usernme == "x"', 1, /unknown field/, /user.username/],
    ['verb inn ("get")', 6, /unknown keyword "inn"/, /did you mean in\?/],
    ['verb exist', 6, /unknown keyword "exist"/, /exists/],
    ['verb == get', 9, /expected a value/, /"get"/],
    ["verb == 'get'", 9, /double quotes/],
    ['verb = "get"', 6, /single "="/, /==/],
    ['verb == "get" && verb == "x"', 15, /not an operator/, /AND/],
    ['responseStatus.code == "403"', 24, /is a number/, /403 without quotes/],
    ['verb == 3', 9, /verb is text/],
    ['user == "alice"', 1, /is an object/, /user.username/],
    ['requestReceivedTimestamp > "yesterday"', 28, /not a timestamp/, /2026-11-27T10:00:00Z/],
    ['(verb == "get"', 15, /expected "\)"/],
    ['verb == "get")', 14, /no matching "\("/],
    ['verb == "get', 9, /never ends/],
    ['verb in ("a" "b")', 14, /expected "," or "\)"/],
    ['verb == "get" | cuont by verb', 17, /unknown stage "cuont"/, /count/],
    ['| dc(objectRef.namespace) bye user.username', 27, /unknown keyword "bye"/, /by/],
    ['| bin 5 minutes', 7, /bin needs a window length/, /5m|10m/],
    ['| head -3', 8, /head needs a positive whole number/],
    ['AND verb == "x"', 1, /expected a field name/],
  ];
  it.each(cases)('%s', (query, column, message, hint) => {
    const error = errorOf(query);
    expect(error.message).toMatch(message);
    expect(error.column).toBe(column);
    if (hint) expect(error.hint).toMatch(hint);
  });
  it('draws a caret under the mistake', () => {
    const query = 'verb == "get" ANDD x';
    expect(formatQueryError(query, errorOf(query))).toBe(['  verb == "get" ANDD x', '                ^^^^', 'column 15: unknown keyword "ANDD"', 'fix: did you mean AND?'].join('\n'));
  });
  it('names the line of a multi-line query', () => {
    const query = 'verb == "get"\nAND objectRef.resorce == "x"';
    expect(formatQueryError(query, errorOf(query))).toContain('line 2, column 5: unknown field "objectRef.resorce"');
  });
});

describe('limits: a hostile query is refused at a column, never a stack overflow', () => {
  it('refuses 3,000 nested parentheses at the 65th "("', () => {
    const query = `${'('.repeat(3000)}verb == "get"${')'.repeat(3000)}`;
    const error = errorOf(query);
    expect(error.message).toBe(`this query nests parentheses and NOTs more than ${MAX_NESTING} levels deep`);
    expect(error.column).toBe(MAX_NESTING + 1);
    expect(error.hint).toMatch(/redundant parentheses/);
  });
  it('refuses 2,400 chained NOTs at the 65th NOT', () => {
    const error = errorOf(`${'NOT '.repeat(2400)}verb == "get"`);
    expect(error.message).toMatch(/more than 64 levels deep/);
    expect(error.column).toBe(MAX_NESTING * 4 + 1);
  });
  it('counts parentheses and NOTs together, and accepts exactly the limit', () => {
    const within = `${'NOT ('.repeat(MAX_NESTING / 2)}verb == "get"${')'.repeat(MAX_NESTING / 2)}`;
    expect(parseQuery(within).filter).toBeDefined();
    expect(errorOf(`NOT ${within}`).column).toBe(1 + 'NOT '.length + 'NOT ('.length * (MAX_NESTING / 2 - 1) + 'NOT '.length);
    // Siblings do not nest: many parenthesised alternatives side by side are fine.
    expect(parseQuery(Array.from({ length: 200 }, () => '(verb == "get")').join(' OR ')).filter).toMatchObject({ type: 'or' });
    // A "where" stage counts from zero again.
    expect(parseQuery(`| where ${within} | where ${within}`).stages).toHaveLength(2);
  });
  it('refuses a query longer than the limit, pointing just past it', () => {
    const query = `verb in (${Array.from({ length: 2000 }, (_, i) => `"v${i}"`).join(', ')})`;
    expect(query.length).toBeGreaterThan(MAX_QUERY_LENGTH);
    const error = errorOf(query);
    expect(error.message).toBe(`this query is ${query.length} characters long; the limit is ${MAX_QUERY_LENGTH}`);
    expect(error.column).toBe(MAX_QUERY_LENGTH + 1);
  });
  it('refuses more stages than the limit at the first "|" too many', () => {
    const query = '| head 5'.repeat(MAX_STAGES + 1);
    expect(parseQuery('| head 5'.repeat(MAX_STAGES)).stages).toHaveLength(MAX_STAGES);
    expect(errorOf(query)).toMatchObject({ message: `this query has more than ${MAX_STAGES} stages`, column: MAX_STAGES * 8 + 1 });
  });
});
