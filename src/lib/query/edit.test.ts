import { describe, expect, it } from 'vitest';
import { addCondition } from './edit.ts';
import { parseQuery } from './parser.ts';

describe('addCondition', () => {
  it('adds to an empty query, and before the first pipe', () => {
    expect(addCondition('', 'verb == "get"')).toBe('verb == "get"');
    expect(addCondition('| count by verb', 'verb == "get"')).toBe('verb == "get" | count by verb');
    expect(addCondition('objectRef.resource == "secrets" | count', 'verb == "get"')).toBe('objectRef.resource == "secrets"\nAND verb == "get" | count');
  });
  it('keeps the meaning of a top-level OR, and is not fooled by a "|" in a string', () => {
    const q = addCondition('verb == "a|b" OR verb == "c" | head 3', 'user.username == "x"');
    expect(q).toBe('(verb == "a|b" OR verb == "c")\nAND user.username == "x" | head 3');
    expect(parseQuery(q).filter?.type).toBe('and');
    expect(addCondition('(verb == "a" OR verb == "b") AND verb != "c"', 'verb == "d"')).toBe('(verb == "a" OR verb == "b") AND verb != "c"\nAND verb == "d"');
  });
  it('appends to text that does not tokenize yet', () => {
    expect(addCondition('verb == "ge', 'x == 1')).toBe('verb == "ge\nAND x == 1');
  });
});
