// Issue 15, finding 2: the policy parser quoted a whole file back in its error (the instructor
// token, a CA key). Whatever the file holds, a message quotes at most short excerpts of it.
import { describe, expect, it } from 'vitest';
import { checkPolicyText, refusalMessage } from './check.ts';
import { loadPolicy } from './validate.ts';

// Files made of random hex: any run of 8+ hex digits in a message came from the file.
let counter = 0;
const hex = (length: number) => {
  let out = '';
  while (out.length < length) out += ((Math.imul(++counter, 2654435761) ^ 0x9e3779b9) >>> 0).toString(16).padStart(8, '0');
  return out.slice(0, length);
};
const runs = (message: string) => message.match(/[0-9a-f]{8,}/g) ?? [];
const quoted = (message: string) => runs(message).reduce((sum, run) => sum + run.length, 0);
const head = 'apiVersion: audit.k8s.io/v1\nkind: Policy\n';

/** Every message a learner can be shown for `text`: the refusal, each problem, each criterion. */
function messages(text: string): string[] {
  const loaded = loadPolicy(text);
  const problems = [...loaded.errors, ...loaded.warnings].map((p) => `${p.path} ${p.message} ${p.hint ?? ''}`);
  const criteria = checkPolicyText(text).result.criteria.map((c) => `${c.message} ${c.warning ?? ''}`);
  return [refusalMessage(loaded.errors), ...problems, ...criteria];
}

const REFUSED: Array<[string, string]> = [
  ['a token, one line', `${hex(4096)}\n`],
  ['a private key', `-----BEGIN PRIVATE KEY-----\n${Array.from({ length: 40 }, () => hex(64)).join('\n')}\n-----END PRIVATE KEY-----\n`],
  ['a quoted string', `"${hex(4096)}"\n`],
  ['an unresolved alias', `a: *${hex(2048)}\n`],
  ['a broken flow sequence', `rules: [${hex(2048)}\n`],
  ['an unsupported YAML version', `%YAML ${hex(2048)}\n---\na: 1\n`],
  ['a YAML alias bomb', `a: &a [x, x, x, x, x, x, x, x, x, x]\n${Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`).join('\n')}\n# ${hex(64)}\n`],
  ['a thousand bad levels', `${head}rules:\n${Array.from({ length: 1000 }, () => `- level: ${hex(40)}\n`).join('')}`],
  ['bad groups, URLs and stages', `${head}omitStages: ["${hex(300)}"]\nrules:\n- level: Metadata\n  nonResourceURLs: ["${hex(300)}*x"]\n- level: None\n  resources: [{group: "${hex(300)}/v1"}]\n`],
  ['an apiVersion and kind', `apiVersion: ${hex(500)}\nkind: ${hex(500)}\nrules: ${hex(500)}\n`],
  ['a list where a string goes', `${head}rules:\n- level: [${hex(500)}]\n  users: ${hex(500)}\n`],
];

describe('policy messages quote at most a short excerpt of the file', () => {
  it.each(REFUSED)('%s: refused, with at most 200 characters of it in any message', (_name, text) => {
    expect(loadPolicy(text).policy).toBeUndefined();
    for (const message of messages(text)) {
      expect(quoted(message), message).toBeLessThanOrEqual(200);
      for (const run of runs(message)) expect(run.length, message).toBeLessThanOrEqual(64);
    }
  });

  it('an accepted policy full of long names: its rules described in short excerpts', () => {
    const long = (n: number) => `[${Array.from({ length: n }, () => JSON.stringify(hex(300))).join(', ')}]`;
    const text = `${head}rules:\n- level: None\n  users: ${long(50)}\n  userGroups: ${long(50)}\n  verbs: ["get"]\n  namespaces: ${long(50)}\n  resources: [{group: "", resources: ["secrets"], resourceNames: ${long(50)}}]\n${Array.from({ length: 200 }, () => `- level: None\n  users: ["${hex(100)}"]\n  ${hex(100)}: x\n`).join('')}- level: Metadata\n`;
    const all = messages(text);
    expect(loadPolicy(text).policy).toBeDefined();
    expect(all.some((m) => quoted(m) > 0)).toBe(true); // the rules are described, not hidden
    for (const message of all) {
      // A message names up to three rules; each description is short.
      expect(quoted(message), message).toBeLessThanOrEqual(3 * 160);
      for (const run of runs(message)) expect(run.length, message).toBeLessThanOrEqual(64);
    }
    // What the lab check hands back, all criteria together, is a few lines of a 100 KB file.
    const criteria = checkPolicyText(text).result.criteria.map((c) => c.message);
    expect(criteria.reduce((sum, m) => sum + quoted(m), 0)).toBeLessThanOrEqual(1_000);
  });
});
