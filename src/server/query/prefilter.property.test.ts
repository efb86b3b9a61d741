/**
 * The literal pre-filter must never change an answer: for random events, written by different
 * JSON encoders (including one that escapes characters nobody escapes), random queries give the
 * same result with and without it, however the input is cut into chunks.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseQuery } from '../../lib/query/parser.ts';
import { createRun } from '../../lib/query/pipeline.ts';
import { requiredLiterals } from '../../lib/query/prefilter.ts';
import { scanChunks } from './scan.ts';

const CHARS = ['a', 'b', 'c', ':', '-', '/', '.', '"', '\\', '*', '&', '<', 'é', ' ', 'x', 'y', '1'];
const text = fc.array(fc.constantFrom(...CHARS), { minLength: 0, maxLength: 7 }).map((cs) => cs.join(''));
const words = fc.constantFrom('get', 'list', 'create', 'system:node:a', 'system:serviceaccount:x:y', 'kube-system', 'a/b', 'ab*c');
const value = fc.oneof(words, text);

const event = fc.record(
  {
    auditID: fc.uuid(),
    verb: value,
    user: fc.record({ username: value, groups: fc.array(value, { maxLength: 3 }) }, { requiredKeys: ['username'] }),
    objectRef: fc.record({ resource: value, namespace: value, name: value, subresource: value }, { requiredKeys: ['resource'] }),
    annotations: fc.dictionary(fc.constantFrom('authorization.k8s.io/decision', 'a.b', 'k'), value, { maxKeys: 2 }),
    responseStatus: fc.record({ code: fc.constantFrom(200, 201, 403) }),
    requestObject: fc.record({ spec: fc.record({ privileged: fc.oneof(fc.boolean(), fc.constant(null), value), hostPID: fc.boolean() }) }),
  },
  { requiredKeys: ['auditID', 'verb', 'user'] },
);

/** Writes a string the way the query language reads it; `*` stays a wildcard only where asked. */
function quote(raw: string, wildcards: boolean): string {
  let out = '';
  for (const c of raw) out += c === '"' ? '\\"' : c === '\\' ? '\\\\' : c === '*' && !wildcards ? '\\*' : c;
  return `"${out}"`;
}

const field = fc.constantFrom('verb', 'user.username', 'user.groups', 'objectRef.resource', 'objectRef.namespace', 'objectRef.name', 'objectRef.subresource', 'annotations."authorization.k8s.io/decision"', 'annotations."a.b"');
const atom = fc.oneof(
  fc.tuple(field, fc.constantFrom('==', '!='), value, fc.boolean()).map(([f, op, v, w]) => `${f} ${op} ${quote(v, w)}`),
  fc.tuple(field, fc.boolean(), fc.array(value, { minLength: 1, maxLength: 3 })).map(([f, neg, vs]) => `${f} ${neg ? 'not in' : 'in'} (${vs.map((v) => quote(v, false)).join(', ')})`),
  field.map((f) => `${f} exists`),
  fc.constantFrom('responseStatus.code == 403', 'responseStatus.code >= 201', 'objectRef.name == null', 'objectRef.name == "*"', 'objectRef.resource > "b"'),
  // Comparisons other than `!=` and `== null` require the field's key (see keyClause).
  fc.constantFrom('requestObject.spec.privileged == true', 'requestObject.spec.privileged == false', 'requestObject.spec.hostPID == true', 'responseStatus.code < 300', 'requestObject.spec.privileged != true'),
);
const { expr } = fc.letrec<{ expr: string }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    atom,
    fc.tuple(tie('expr'), fc.constantFrom('AND', 'OR', 'and', 'Or'), tie('expr')).map(([a, op, b]) => `(${a} ${op} ${b})`),
    tie('expr').map((e) => `NOT ${e}`),
  ),
}));
const query = fc.tuple(expr, fc.constantFrom('', ' | count by verb', ' | where verb != "get"', ' | head 3', ' | dc(objectRef.namespace) by user.username')).map(([e, tail]) => e + tail);

/** A JSON encoder that escapes the chosen characters as \uXXXX and may write "/" as "\/". */
function hostileJson(value: unknown, escapes: Set<string>, slash: boolean): string {
  if (typeof value === 'string') {
    let out = '"';
    for (const c of value) {
      if (c === '"') out += '\\"';
      else if (c === '\\') out += '\\\\';
      else if (c === '/' && slash) out += '\\/';
      else if (escapes.has(c) || c < ' ') out += `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
      else out += c;
    }
    return `${out}"`;
  }
  if (Array.isArray(value)) return `[${value.map((v) => hostileJson(v, escapes, slash)).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${hostileJson(k, escapes, slash)}: ${hostileJson(v, escapes, slash)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(value);
}

const encoder = fc.oneof(
  fc.constant((e: unknown) => JSON.stringify(e)),
  fc.constant((e: unknown) => JSON.stringify(e).replaceAll('&', '\\u0026').replaceAll('<', '\\u003c')),
  fc.tuple(fc.subarray(['a', 'b', ':', '-', '.', 'y', '1', 'é', 'k', 'v', 'e', 'r']), fc.boolean()).map(([chars, slash]) => (e: unknown) => hostileJson(e, new Set(chars), slash)),
);

async function run(queryText: string, bytes: Buffer, cuts: number[], prefilter: boolean) {
  const q = parseQuery(queryText);
  const r = createRun(q);
  const chunks = async function* () {
    let last = 0;
    for (const cut of [...cuts.map((c) => Math.floor(c * bytes.length)).sort((a, b) => a - b), bytes.length]) {
      yield bytes.subarray(last, Math.max(last, cut));
      last = Math.max(last, cut);
    }
  };
  const report = await scanChunks(chunks(), [{ clauses: requiredLiterals(q), push: (e) => r.push(e) }], { prefilter });
  return { output: r.finish(), parsed: report.parsed, lines: report.lines, stoppedEarly: report.stoppedEarly };
}

describe('literal pre-filter', () => {
  it('never changes a result', async () => {
    let skipped = 0;
    await fc.assert(
      fc.asyncProperty(query, fc.array(event, { maxLength: 25 }), encoder, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }), async (q, events, encode, cuts) => {
        const bytes = Buffer.from(events.map(encode).join('\n') + '\n');
        const fast = await run(q, bytes, cuts, true);
        const slow = await run(q, bytes, [], false);
        expect(fast.output).toEqual(slow.output);
        if (!fast.stoppedEarly) expect(fast.lines).toBe(events.length);
        skipped += slow.parsed - fast.parsed;
      }),
      { numRuns: 400 },
    );
    // The property is only interesting if the pre-filter actually skipped lines.
    expect(skipped).toBeGreaterThan(0);
  });
});
