/** Turns query text into tokens, each with its 1-based column. Keywords are words; the parser decides. */
import { QueryError } from './errors.ts';

export type TokenType = 'word' | 'string' | 'number' | 'op' | '(' | ')' | ',' | '.' | '|' | '-' | 'eof';

export interface Token {
  type: TokenType;
  /** Source text (for strings: the decoded value). */
  text: string;
  /** 1-based column of the first character. */
  column: number;
  /** Length in the source. */
  length: number;
  /** For strings: where an unescaped `*` stands (wildcards), as indexes into `text`. */
  stars?: number[];
}

const WORD_START = /[A-Za-z_$]/;
const WORD_PART = /[A-Za-z0-9_$-]/;

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const at = (index: number) => index + 1;
  while (i < source.length) {
    const c = source[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const start = i;
    if (c === '"') {
      let text = '';
      const stars: number[] = [];
      i++;
      for (;;) {
        if (i >= source.length) throw new QueryError('this string never ends', at(start), source.length - start, 'add the closing double quote');
        const d = source[i]!;
        if (d === '"') break;
        if (d === '\\') {
          const next = source[i + 1];
          const escapes: Record<string, string> = { '"': '"', '\\': '\\', '*': '*', n: '\n', t: '\t', '/': '/' };
          if (next === undefined || !(next in escapes)) {
            throw new QueryError(`unknown escape "\\${next ?? ''}" in a string`, at(i), 2, 'write \\" for a quote, \\\\ for a backslash, \\* for a literal star');
          }
          text += escapes[next];
          i += 2;
          continue;
        }
        if (d === '*') stars.push(text.length);
        text += d;
        i++;
      }
      i++;
      tokens.push({ type: 'string', text, column: at(start), length: i - start, stars });
      continue;
    }
    if (c === "'") {
      throw new QueryError('strings use double quotes', at(start), 1, 'write "..." instead of \'...\'');
    }
    if (/[0-9]/.test(c)) {
      while (i < source.length && /[0-9A-Za-z.]/.test(source[i]!)) i++;
      tokens.push({ type: 'number', text: source.slice(start, i), column: at(start), length: i - start });
      continue;
    }
    if (c === '-' && /[0-9]/.test(source[i + 1] ?? '')) {
      i++;
      while (i < source.length && /[0-9.eE]/.test(source[i]!)) i++;
      tokens.push({ type: 'number', text: source.slice(start, i), column: at(start), length: i - start });
      continue;
    }
    if (WORD_START.test(c)) {
      while (i < source.length && WORD_PART.test(source[i]!)) i++;
      tokens.push({ type: 'word', text: source.slice(start, i), column: at(start), length: i - start });
      continue;
    }
    const two = source.slice(i, i + 2);
    if (two === '==' || two === '!=' || two === '<=' || two === '>=') {
      tokens.push({ type: 'op', text: two, column: at(start), length: 2 });
      i += 2;
      continue;
    }
    if (c === '<' || c === '>') {
      tokens.push({ type: 'op', text: c, column: at(start), length: 1 });
      i++;
      continue;
    }
    if (two === '||') throw new QueryError('"||" is not an operator', at(start), 2, 'write OR');
    if (c === '=') throw new QueryError('a single "=" is not an operator', at(start), 1, 'compare with ==');
    if (c === '&' || c === '!') {
      const word = c === '&' ? 'AND' : 'NOT';
      throw new QueryError(`"${source.slice(i, i + (source[i + 1] === c ? 2 : 1))}" is not an operator`, at(start), 1, `write ${word}`);
    }
    if ('(),.|-'.includes(c)) {
      tokens.push({ type: c as TokenType, text: c, column: at(start), length: 1 });
      i++;
      continue;
    }
    throw new QueryError(`unexpected character "${c}"`, at(start), 1, 'quote values with "..."; operators are == != < <= > >=');
  }
  tokens.push({ type: 'eof', text: '', column: source.length + 1, length: 1 });
  return tokens;
}
