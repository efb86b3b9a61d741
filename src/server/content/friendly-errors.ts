/**
 * The one place where bad user input (content files, CLI arguments, uploaded answers) becomes
 * messages a person can act on: every problem at once, each with file, line, path, what is
 * wrong and how to fix it. Starlight-style: never stop at the first error.
 */
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { editDistance } from '../../lib/edit-distance.ts';
import { yamlPosition } from '../../lib/yaml-position.ts';

export { editDistance };

export interface ContentProblem {
  /** File the problem is in, relative to the project root. */
  file: string;
  /** 1-based line in the file, when it can be located. */
  line?: number;
  /** 1-based column in the file, when it can be located. */
  column?: number;
  /** Where in the document, e.g. `objectives[2]` or `attack[0].id`; empty for the whole file. */
  path: string;
  /** What is wrong. */
  message: string;
  /** How to fix it. */
  hint?: string;
}

/** A parsed YAML document plus what is needed to turn a data path into a file position. */
export interface LocatedYaml {
  doc: Document;
  lines: LineCounter;
  /** Lines in the file before the YAML text starts (e.g. 1 for the `---` of frontmatter). */
  lineOffset: number;
}

export function parseLocatedYaml(text: string, lineOffset = 0): LocatedYaml {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  return { doc, lines, lineOffset };
}

/** Syntax errors of a YAML document, as problems. */
export function yamlSyntaxProblems(file: string, located: LocatedYaml): ContentProblem[] {
  return located.doc.errors.map((error) => {
    const pos = located.lines.linePos(error.pos[0]);
    return {
      file,
      line: pos.line + located.lineOffset,
      column: pos.col,
      path: '',
      message: `YAML syntax: ${error.message.split('\n')[0] ?? error.code}`,
      hint: 'check indentation and quoting on this line (strings with ": " or "#" need quotes)',
    };
  });
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out ? `.${String(segment)}` : String(segment);
  }
  return out;
}

/** Position of the node at `path` in a located file, or of its nearest existing ancestor. */
export function locate(located: LocatedYaml | undefined, path: readonly PropertyKey[], keyOnly = false): { line?: number; column?: number } {
  if (!located) return {};
  const { line, column } = yamlPosition(located.doc, located.lines, path, keyOnly);
  return line === undefined ? {} : { line: line + located.lineOffset, column };
}


export function nearest(word: string, candidates: readonly string[], max = 3): string[] {
  return candidates
    .map((candidate) => ({ candidate, distance: editDistance(word.toLowerCase(), candidate.toLowerCase()) }))
    .filter(({ distance, candidate }) => distance <= Math.max(2, Math.floor(candidate.length / 3)))
    .sort((x, y) => x.distance - y.distance)
    .slice(0, max)
    .map(({ candidate }) => candidate);
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return 'a date';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${String(value)}`;
}

function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current: unknown = schema;
  for (const segment of path) {
    current = unwrap(current);
    const def = (current as { def?: { type?: string; shape?: Record<string, unknown>; element?: unknown; options?: unknown[] } }).def;
    if (def?.type === 'union' && typeof segment === 'string') {
      // Members of a union (question types) share field names; follow the first that has it.
      const member = def.options?.map(unwrap).find((o) => (o as { def?: { shape?: Record<string, unknown> } }).def?.shape?.[segment]);
      current = (member as { def?: { shape?: Record<string, unknown> } } | undefined)?.def?.shape?.[segment];
    } else if (def?.type === 'object' && typeof segment === 'string') current = def.shape?.[segment];
    else if (def?.type === 'array' && typeof segment === 'number') current = def.element;
    else return [];
  }
  return objectKeys(unwrap(current));
}

/** Keys of an object schema; for a union (e.g. question types), the keys of every member. */
function objectKeys(schema: unknown): string[] {
  const def = (schema as { def?: { type?: string; shape?: Record<string, unknown>; options?: unknown[] } } | undefined)?.def;
  if (def?.type === 'object' && def.shape) return Object.keys(def.shape);
  if (def?.type === 'union' && def.options) return [...new Set(def.options.flatMap((option) => objectKeys(unwrap(option))))];
  return [];
}

function unwrap(schema: unknown): unknown {
  let current = schema as { def?: { type?: string; innerType?: unknown } } | undefined;
  while (current?.def && ['optional', 'default', 'nullable', 'prefault', 'pipe'].includes(current.def.type ?? '')) {
    const def = current.def as { innerType?: unknown; in?: unknown };
    current = (def.innerType ?? def.in) as typeof current;
  }
  return current;
}

type Issue = z.core.$ZodIssue & { input?: unknown };

/** "needs at least 40 characters, has 9" reads better than zod's "Too small: expected string to have >=40 characters". */
function sizeMessage(issue: Issue & { code: 'too_small' | 'too_big' }): string {
  const small = issue.code === 'too_small';
  const bound = Number(small ? (issue as { minimum: unknown }).minimum : (issue as { maximum: unknown }).maximum);
  const input = issue.input;
  const unit = ({ string: 'characters', array: 'items', set: 'items', file: 'bytes' } as Record<string, string>)[issue.origin];
  if (unit) {
    const has = typeof input === 'string' || Array.isArray(input) ? input.length : undefined;
    return `${small ? 'needs at least' : 'allows at most'} ${bound} ${unit}${has === undefined ? '' : `, has ${has}`}`;
  }
  return `must be ${small ? 'at least' : 'at most'} ${bound}${input === undefined ? '' : `, is ${String(input)}`}`;
}

/** One problem per zod issue, positioned in the YAML source and with a fix hint. */
export function problemsFromZod(
  file: string,
  schema: z.ZodType,
  issues: readonly Issue[],
  located?: LocatedYaml,
): ContentProblem[] {
  const problems: ContentProblem[] = [];
  for (const issue of issues) {
    const path = issue.path as PropertyKey[];
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(schema, path);
      for (const key of issue.keys) {
        const suggestions = nearest(key, known);
        problems.push({
          file,
          ...locate(located, [...path, key], true),
          path: formatPath([...path, key]),
          message: `unknown field "${key}"`,
          hint: suggestions.length
            ? `did you mean ${suggestions.map((s) => `"${s}"`).join(' or ')}?`
            : `remove it; allowed here: ${known.join(', ')}`,
        });
      }
      continue;
    }
    const where = formatPath(path);
    const field = where || 'the document';
    let message = issue.message;
    let hint: string | undefined;
    if (issue.code === 'invalid_type' && issue.input === undefined) {
      message = `missing required field "${field}" (${issue.expected})`;
      hint = `add "${String(path.at(-1) ?? '')}:" with a ${issue.expected}`;
    } else if (issue.code === 'invalid_type') {
      message = `expected ${issue.expected}, got ${describeValue(issue.input)}`;
    } else if (issue.code === 'invalid_value') {
      const allowed = issue.values.map((v) => JSON.stringify(v)).join(' | ');
      message = `${describeValue(issue.input)} is not allowed`;
      hint = `use one of ${allowed}`;
    } else if (issue.code === 'too_small' || issue.code === 'too_big') {
      message = sizeMessage(issue);
    } else if (issue.code === 'invalid_format') {
      message = `${issue.message}: ${describeValue(issue.input)}`;
    } else if (issue.code === 'invalid_union' && 'discriminator' in issue && typeof issue.discriminator === 'string') {
      // A discriminated union (e.g. question `type`) with a value none of its members accept.
      const options = ((issue as { options?: unknown[] }).options ?? []).map((v) => JSON.stringify(v));
      const input = issue.input as Record<string, unknown> | undefined;
      message = `${describeValue(input?.[issue.discriminator])} is not a known ${issue.discriminator}`;
      if (options.length) hint = `use one of ${options.join(' | ')}`;
    } else if (issue.code === 'custom') {
      // Cross-field rules written in the schemas carry their own fix in `params.hint`.
      const custom = (issue as { params?: { hint?: unknown } }).params?.hint;
      if (typeof custom === 'string') hint = custom;
    }
    problems.push({ file, ...locate(located, path), path: where, message, ...(hint ? { hint } : {}) });
  }
  return problems;
}

/** Human-readable report of every problem, grouped by file; empty string when there are none. */
export function formatProblems(problems: readonly ContentProblem[]): string {
  if (problems.length === 0) return '';
  const files = [...new Set(problems.map((p) => p.file))];
  const lines = [`${problems.length} problem${problems.length === 1 ? '' : 's'} in ${files.length} file${files.length === 1 ? '' : 's'}:`];
  for (const file of files) {
    lines.push('', file);
    for (const p of problems.filter((q) => q.file === file)) {
      const at = p.line ? `${p.line}:${p.column ?? 1}` : '-';
      lines.push(`  ${at.padEnd(7)} ${p.path ? `${p.path}: ` : ''}${p.message}`);
      if (p.hint) lines.push(`  ${''.padEnd(7)} fix: ${p.hint}`);
    }
  }
  return lines.join('\n');
}
