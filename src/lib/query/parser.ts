/**
 * Recursive-descent parser for the audit query language (see docs/query.md):
 *
 *   query := expr ("|" stage)*
 *   expr  := or;  or := and ("OR" and)*;  and := not ("AND" not)*;  not := "NOT" not | atom
 *   atom  := "(" expr ")" | path op value | path ["not"] "in" "(" value ("," value)* ")" | path "exists"
 *
 * Every mistake becomes a QueryError at its column, with a suggestion where one is likely. So does a
 * query over the limits of ./limits.ts (length, nesting of parentheses and NOTs, stages): the
 * recursion below never goes deeper than MAX_NESTING levels.
 */
import type { CompareOp, Expr, FieldRef, Literal, Query, Stage } from './ast.ts';
import { QueryError } from './errors.ts';
import { EVENT_FIELD_PATHS, eventFieldKind, formatPath, type FieldKind } from './fields.ts';
import { tokenize, type Token } from './lexer.ts';
import { MAX_NESTING, MAX_QUERY_LENGTH, MAX_STAGES } from './limits.ts';
import { nearestWords } from './suggest.ts';
import { parseTimestamp } from './time.ts';

const KEYWORDS = ['AND', 'OR', 'NOT', 'IN', 'EXISTS', 'TRUE', 'FALSE', 'NULL'];
const STAGES = ['count', 'dc', 'where', 'sort', 'head', 'bin'];
const DURATION_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** What fields exist at a point of the pipeline: the event schema, then aggregation columns. */
interface Scope {
  kind(path: readonly string[]): FieldKind | undefined;
  names: readonly string[];
}

const eventScope = (binned: boolean): Scope => ({
  kind: (path) => (binned && path.length === 1 && path[0] === 'window' ? 'time' : eventFieldKind(path)),
  names: binned ? [...EVENT_FIELD_PATHS, 'window'] : EVENT_FIELD_PATHS,
});

function rowScope(columns: Map<string, FieldKind>): Scope {
  return { kind: (path) => columns.get(formatPath(path)), names: [...columns.keys()] };
}

export function parseQuery(source: string): Query {
  return new Parser(source).parse();
}

class Parser {
  private readonly tokens: Token[];
  private index = 0;
  private scope: Scope = eventScope(false);
  private binned = false;
  /** Parentheses and NOTs open around the current token. */
  private depth = 0;
  private readonly source: string;

  constructor(source: string) {
    if (source.length > MAX_QUERY_LENGTH) {
      throw new QueryError(`this query is ${source.length} characters long; the limit is ${MAX_QUERY_LENGTH}`, MAX_QUERY_LENGTH + 1, source.length - MAX_QUERY_LENGTH, 'shorten it: a list such as verb in ("get", "list") replaces a chain of ORs');
    }
    this.source = source;
    this.tokens = tokenize(source);
  }

  /** Enters one level of nesting at `token` (a "(" or a NOT); refuses past MAX_NESTING. */
  private nest(token: Token) {
    if (++this.depth > MAX_NESTING) {
      throw new QueryError(
        `this query nests parentheses and NOTs more than ${MAX_NESTING} levels deep`,
        token.column,
        token.length,
        'remove redundant parentheses; NOT NOT x is the same as x',
      );
    }
  }

  parse(): Query {
    let filter: Expr | undefined;
    if (!this.at('|') && !this.at('eof')) filter = this.parseOr();
    const stages: Stage[] = [];
    for (;;) {
      const token = this.peek();
      if (token.type === 'eof') break;
      if (token.type === '|') {
        if (stages.length === MAX_STAGES) throw new QueryError(`this query has more than ${MAX_STAGES} stages`, token.column, 1, 'combine where stages with AND');
        this.index++;
        stages.push(this.parseStage());
        continue;
      }
      throw this.unexpectedAfterCondition(token);
    }
    return { filter, stages, source: this.source };
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.index + offset, this.tokens.length - 1)]!;
  }

  private at(type: Token['type']): boolean {
    return this.peek().type === type;
  }

  private isWord(word: string, token = this.peek()): boolean {
    return token.type === 'word' && token.text.toLowerCase() === word.toLowerCase();
  }

  private expect(type: Token['type'], what: string, hint?: string): Token {
    const token = this.peek();
    if (token.type !== type) throw new QueryError(`expected ${what}, found ${describe(token)}`, token.column, token.length, hint);
    this.index++;
    return token;
  }

  private unexpectedAfterCondition(token: Token): QueryError {
    if (token.type === 'word') {
      const near = nearestWords(token.text, ['AND', 'OR']);
      if (near.length) return new QueryError(`unknown keyword "${token.text}"`, token.column, token.length, `did you mean ${near.join(' or ')}?`);
      return new QueryError(`expected AND, OR or "|" after a condition, found "${token.text}"`, token.column, token.length, 'join conditions with AND / OR, or start a stage with "|"');
    }
    if (token.type === ')') return new QueryError('this ")" has no matching "("', token.column, 1, 'remove it or add "(" before');
    return new QueryError(`expected AND, OR or "|" after a condition, found ${describe(token)}`, token.column, token.length);
  }

  private parseOr(): Expr {
    const items = [this.parseAnd()];
    while (this.isWord('OR')) {
      this.index++;
      items.push(this.parseAnd());
    }
    return items.length === 1 ? items[0]! : { type: 'or', items };
  }

  private parseAnd(): Expr {
    const items = [this.parseNot()];
    while (this.isWord('AND')) {
      this.index++;
      items.push(this.parseNot());
    }
    return items.length === 1 ? items[0]! : { type: 'and', items };
  }

  private parseNot(): Expr {
    if (this.isWord('NOT')) {
      this.nest(this.peek());
      this.index++;
      const expr = this.parseNot();
      this.depth--;
      return { type: 'not', expr };
    }
    return this.parseAtom();
  }

  private parseAtom(): Expr {
    const token = this.peek();
    if (token.type === '(') {
      this.nest(token);
      this.index++;
      const expr = this.parseOr();
      const close = this.peek();
      if (close.type !== ')') {
        if (close.type === 'word') throw this.unexpectedAfterCondition(close);
        throw new QueryError(`expected ")" to close the "(" at column ${token.column}, found ${describe(close)}`, close.column, close.length, 'add ")"');
      }
      this.index++;
      this.depth--;
      return expr;
    }
    const field = this.parseField();
    const next = this.peek();
    if (next.type === 'op') {
      this.index++;
      const valueToken = this.peek();
      const value = this.parseValue();
      this.checkComparison(field, next.text as CompareOp, value, valueToken);
      return { type: 'compare', field, op: next.text as CompareOp, value, valueColumn: valueToken.column };
    }
    if (this.isWord('exists')) {
      this.index++;
      return { type: 'exists', field };
    }
    if (this.isWord('in') || (this.isWord('not') && this.isWord('in', this.peek(1)))) {
      const negated = this.isWord('not');
      this.index += negated ? 2 : 1;
      this.expect('(', '"(" to start the list', 'write in ("a", "b")');
      const values: Literal[] = [];
      for (;;) {
        const valueToken = this.peek();
        const value = this.parseValue();
        this.checkComparison(field, '==', value, valueToken);
        values.push(value);
        if (this.at(',')) {
          this.index++;
          continue;
        }
        if (this.at(')')) break;
        const bad = this.peek();
        throw new QueryError(`expected "," or ")" in the list, found ${describe(bad)}`, bad.column, bad.length, 'separate values with commas and close the list with ")"');
      }
      this.index++;
      return { type: 'in', field, negated, values };
    }
    if (next.type === 'word') {
      const near = nearestWords(next.text, ['in', 'not in', 'exists']);
      throw new QueryError(
        `unknown keyword "${next.text}" after ${field.text}`,
        next.column,
        next.length,
        near.length ? `did you mean ${near.join(' or ')}?` : 'compare with == != < <= > >=, or use in (...), not in (...), exists',
      );
    }
    throw new QueryError(`expected an operator after ${field.text}, found ${describe(next)}`, next.column, next.length, 'compare with == != < <= > >=, or use in (...), not in (...), exists');
  }

  private parseField(): FieldRef {
    const first = this.peek();
    if (first.type !== 'word' || KEYWORDS.includes(first.text.toUpperCase())) {
      const hint = first.type === 'string' ? 'field names are not quoted (only keys inside a path: annotations."a/b")' : 'start a condition with a field such as verb or user.username';
      throw new QueryError(`expected a field name, found ${describe(first)}`, first.column, first.length, hint);
    }
    this.index++;
    const path = [first.text];
    let end = first.column + first.length;
    while (this.at('.')) {
      this.index++;
      const part = this.peek();
      if (part.type !== 'word' && part.type !== 'string') {
        throw new QueryError(`expected a key after ".", found ${describe(part)}`, part.column, part.length, 'quote keys with dots or slashes: annotations."authorization.k8s.io/decision"');
      }
      this.index++;
      path.push(part.text);
      end = part.column + part.length;
    }
    const ref: FieldRef = { path, text: formatPath(path), column: first.column, length: end - first.column };
    if (this.scope.kind(path) === undefined) {
      const near = nearestWords(ref.text, this.scope.names);
      throw new QueryError(
        `unknown field "${ref.text}"`,
        ref.column,
        ref.length,
        near.length ? `did you mean ${near.join(' or ')}?` : `fields here: ${this.scope.names.slice(0, 12).join(', ')}`,
      );
    }
    return ref;
  }

  private parseValue(): Literal {
    const token = this.peek();
    this.index++;
    if (token.type === 'string') return { kind: 'string', value: token.text, stars: token.stars ?? [] };
    if (token.type === 'number') {
      const value = Number(token.text);
      if (!Number.isFinite(value) || !/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(token.text)) {
        throw new QueryError(`"${token.text}" is not a number`, token.column, token.length, `quote text: "${token.text}"`);
      }
      return { kind: 'number', value };
    }
    if (token.type === 'word') {
      const word = token.text.toLowerCase();
      if (word === 'true' || word === 'false') return { kind: 'bool', value: word === 'true' };
      if (word === 'null') return { kind: 'null' };
      throw new QueryError(`expected a value, found the word "${token.text}"`, token.column, token.length, `quote text: "${token.text}"`);
    }
    throw new QueryError(`expected a value, found ${describe(token)}`, token.column, token.length, 'values are "double-quoted text", numbers, true, false or null');
  }

  /** Refuses comparisons that could never be true, so that a typo does not silently match nothing. */
  private checkComparison(field: FieldRef, op: CompareOp, value: Literal, token: Token) {
    const kind = this.scope.kind(field.path);
    const ordering = op !== '==' && op !== '!=';
    if (kind === 'object') {
      throw new QueryError(`${field.text} is an object, not a value`, field.column, field.length, `compare a field inside it, e.g. ${this.scope.names.filter((n) => n.startsWith(`${field.text}.`)).slice(0, 3).join(', ')}`);
    }
    if (value.kind === 'null' && ordering) throw new QueryError('null can only be compared with == or !=', token.column, token.length);
    if (value.kind === 'bool' && ordering) throw new QueryError('true and false can only be compared with == or !=', token.column, token.length);
    if (kind === 'number' && value.kind === 'string') {
      throw new QueryError(`${field.text} is a number`, token.column, token.length, `write ${/^-?\d+$/.test(value.value) ? value.value : 'a number'} without quotes`);
    }
    if ((kind === 'string' || kind === 'strings' || kind === 'time') && value.kind === 'number') {
      throw new QueryError(`${field.text} is text`, token.column, token.length, `write "${token.text}" in double quotes`);
    }
    if (kind === 'time' && ordering && value.kind === 'string' && parseTimestamp(value.value) === undefined) {
      throw new QueryError(`"${value.value}" is not a timestamp`, token.column, token.length, 'write RFC 3339 UTC, e.g. "2026-11-27T10:00:00Z"');
    }
  }

  private parseFieldList(): FieldRef[] {
    const fields = [this.parseField()];
    while (this.at(',')) {
      this.index++;
      fields.push(this.parseField());
    }
    return fields;
  }

  private parseStage(): Stage {
    const token = this.peek();
    if (token.type !== 'word') throw new QueryError(`expected a stage after "|", found ${describe(token)}`, token.column, token.length, `stages: ${STAGES.join(', ')}`);
    const name = token.text.toLowerCase();
    this.index++;
    switch (name) {
      case 'where':
        return { type: 'where', expr: this.parseOr() };
      case 'count': {
        const by = this.parseBy();
        this.aggregate(by, 'count');
        return { type: 'count', by };
      }
      case 'dc': {
        this.expect('(', '"(" after dc', 'write dc(objectRef.namespace)');
        const field = this.parseField();
        this.expect(')', '")" after the field of dc');
        const by = this.parseBy();
        this.aggregate(by, 'dc');
        return { type: 'dc', field, by };
      }
      case 'sort': {
        const descending = this.at('-');
        if (descending) this.index++;
        return { type: 'sort', field: this.parseField(), descending };
      }
      case 'head': {
        if (this.at('|') || this.at('eof')) return { type: 'head', n: 10 };
        const n = this.peek();
        if (n.type !== 'number' || !/^\d+$/.test(n.text) || Number(n.text) < 1) {
          throw new QueryError(`head needs a positive whole number, found ${describe(n)}`, n.column, n.length, 'write | head 20');
        }
        this.index++;
        return { type: 'head', n: Number(n.text) };
      }
      case 'bin': {
        const d = this.peek();
        const match = d.type === 'number' ? /^(\d+)([smhd])$/.exec(d.text) : null;
        if (!match || Number(match[1]) < 1) {
          throw new QueryError(`bin needs a window length such as 5m, found ${describe(d)}`, d.column, d.length, 'units: s, m, h, d (e.g. | bin 10m)');
        }
        this.index++;
        this.binned = true;
        if (this.scope.names.includes('requestReceivedTimestamp')) this.scope = eventScope(true);
        return { type: 'bin', ms: Number(match[1]) * DURATION_UNITS[match[2]!]!, text: d.text };
      }
      default: {
        const near = nearestWords(token.text, STAGES);
        throw new QueryError(`unknown stage "${token.text}"`, token.column, token.length, near.length ? `did you mean ${near.join(' or ')}?` : `stages: ${STAGES.join(', ')}`);
      }
    }
  }

  private parseBy(): FieldRef[] {
    if (!this.isWord('by')) {
      const token = this.peek();
      if (token.type === 'word' && nearestWords(token.text, ['by']).length) {
        throw new QueryError(`unknown keyword "${token.text}"`, token.column, token.length, 'did you mean by?');
      }
      return [];
    }
    this.index++;
    return this.parseFieldList();
  }

  /** After an aggregation, later stages see its columns instead of event fields. */
  private aggregate(by: FieldRef[], value: 'count' | 'dc') {
    const columns = new Map<string, FieldKind>();
    if (this.binned) columns.set('window', 'time');
    for (const field of by) {
      const kind = this.scope.kind(field.path) ?? 'any';
      columns.set(field.text, kind === 'strings' ? 'string' : kind);
    }
    columns.set(value, 'number');
    this.scope = rowScope(columns);
    this.binned = false;
  }
}

function describe(token: Token): string {
  if (token.type === 'eof') return 'the end of the query';
  if (token.type === 'string') return `the text ${JSON.stringify(token.text)}`;
  return `"${token.text}"`;
}
