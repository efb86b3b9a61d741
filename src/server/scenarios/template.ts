/**
 * `{{ name }}` placeholders in scenario strings. A string that is exactly one placeholder of a
 * list param becomes the list; inside longer text a list is joined with ", ".
 */
import type { ParamValue } from './params.ts';

const PLACEHOLDER = /\{\{\s*([a-zA-Z][a-zA-Z0-9]*)\s*\}\}/g;

/** Names used by placeholders anywhere in a value. */
export function placeholders(value: unknown, found = new Set<string>()): Set<string> {
  if (typeof value === 'string') for (const match of value.matchAll(PLACEHOLDER)) found.add(match[1]!);
  else if (Array.isArray(value)) value.forEach((item) => placeholders(item, found));
  else if (value && typeof value === 'object') Object.values(value).forEach((item) => placeholders(item, found));
  return found;
}

export function fillString(text: string, values: Record<string, ParamValue>): ParamValue {
  const whole = /^\{\{\s*([a-zA-Z][a-zA-Z0-9]*)\s*\}\}$/.exec(text);
  if (whole) {
    const value = values[whole[1]!];
    if (value === undefined) throw new Error(`unknown placeholder {{ ${whole[1]} }}`);
    return value;
  }
  return text.replace(PLACEHOLDER, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`unknown placeholder {{ ${name} }}`);
    return Array.isArray(value) ? value.join(', ') : value;
  });
}

/** A deep copy of `value` with every placeholder filled. */
export function fill<T>(value: T, values: Record<string, ParamValue>): T {
  if (typeof value === 'string') return fillString(value, values) as T;
  if (Array.isArray(value)) return value.map((item) => fill(item, values)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [fill(key, values), fill(item, values)])) as T;
  }
  return value;
}
