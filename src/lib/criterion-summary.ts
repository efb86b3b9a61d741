/**
 * One line for a check criterion's message, the rest on demand: a failing audit-policy
 * criterion names every request and the rule to add, which is the fix but not what a learner
 * scans for. The line is the message's first clause (up to its first colon or full stop) when
 * that says something, else the message cut at a word.
 */

const LONGEST = 140;

export interface CriterionSummary {
  /** The one line to show. */
  line: string;
  /** The whole message when the line is not all of it. */
  details?: string;
}

export function summariseMessage(message: string): CriterionSummary {
  const text = message.trim();
  if (text.length <= LONGEST && !/\. Fix: /.test(text)) return { line: text };
  const clause = firstClause(text);
  if (clause && clause.length <= LONGEST) return { line: clause, details: text };
  const cut = text.slice(0, LONGEST);
  const space = cut.lastIndexOf(' ');
  return { line: `${(space > 60 ? cut.slice(0, space) : cut).replace(/[\s,;:]+$/, '')}…`, details: text };
}

/** The text up to its first `: ` or `. ` outside parentheses and backticks (at least 12 characters in). */
function firstClause(text: string): string | undefined {
  let depth = 0;
  let code = false;
  for (let i = 0; i < text.length - 1; i++) {
    const c = text[i]!;
    if (c === '`') code = !code;
    else if (!code && c === '(') depth += 1;
    else if (!code && c === ')') depth = Math.max(0, depth - 1);
    else if (!code && depth === 0 && i >= 12 && (c === ':' || c === '.') && /\s/.test(text[i + 1]!)) return text.slice(0, i);
  }
  return undefined;
}

/**
 * Failing criteria that say the same thing (three criteria that each need audit-policy.yaml
 * first) shown once, with how many they are, in their first one's place.
 */
export function sameMessageOnce<T extends { id: string; message: string }>(criteria: readonly T[]): Array<{ first: T; count: number }> {
  const groups = new Map<string, { first: T; count: number }>();
  for (const criterion of criteria) {
    const key = criterion.message.trim();
    const group = groups.get(key);
    if (group) group.count += 1;
    else groups.set(key, { first: criterion, count: 1 });
  }
  return [...groups.values()];
}
