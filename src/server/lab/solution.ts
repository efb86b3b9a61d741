/**
 * The reference solution's placeholders, `{{ key.path }}`, filled from a learner's answer key:
 * the same lab file solves every learner's randomized incident. Authoring tools only; never
 * rendered into a page.
 */
import type { AnswerKey } from '../scenarios/answer-key.ts';

/** The key plus a few facts derived for solutions (lists in the form commands want them). */
export function solutionFacts(key: AnswerKey): Record<string, unknown> {
  return {
    ...key,
    secretsReadNamed: key.secretsRead.filter((s) => !s.endsWith('/*')).join(', '),
    reachableSecretRefs: key.reachableSecrets.map((s) => `${s.namespace}/${s.name}`).join(' '),
    execCommand: key.execs[0]?.command.at(-1) ?? '',
  };
}

export function fillSolution(text: string, key: AnswerKey): string {
  const facts = solutionFacts(key);
  return text.replace(/\{\{\s*key\.([A-Za-z0-9_.]+)\s*\}\}/g, (whole, dotted: string) => {
    let value: unknown = facts;
    for (const part of dotted.split('.')) value = (value as Record<string, unknown> | undefined)?.[part];
    if (value === undefined || value === null) throw new Error(`the answer key has no ${dotted} (in ${whole})`);
    return Array.isArray(value) ? value.join(', ') : String(value);
  });
}
