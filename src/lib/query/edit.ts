/** Editing query text on the learner's behalf (the field sidebar's "add this value"). */
import { tokenize, type Token } from './lexer.ts';

/**
 * `query` narrowed by `AND condition`: added before the first pipe (a "|" inside a string is not
 * a pipe), with parentheses around the existing condition when it has a top-level OR.
 */
export function addCondition(query: string, condition: string): string {
  let tokens: Token[];
  try {
    tokens = tokenize(query);
  } catch {
    // Unfinished text: append, and let the parser point at whatever is wrong.
    return query.trim() ? `${query.trim()}\nAND ${condition}` : condition;
  }
  const pipe = tokens.find((t) => t.type === '|');
  const cut = pipe ? pipe.column - 1 : query.length;
  const head = query.slice(0, cut).trim();
  const tail = pipe ? ` ${query.slice(cut).trim()}` : '';
  let depth = 0;
  let topLevelOr = false;
  for (const t of tokens) {
    if (t === pipe) break;
    if (t.type === '(') depth++;
    else if (t.type === ')') depth--;
    else if (depth === 0 && t.type === 'word' && t.text.toUpperCase() === 'OR') topLevelOr = true;
  }
  if (!head) return `${condition}${tail}`;
  return `${topLevelOr ? `(${head})` : head}\nAND ${condition}${tail}`;
}
