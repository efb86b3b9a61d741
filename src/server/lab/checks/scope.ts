/**
 * Scope the incident before eradicating it: which identities did the attacker act as, which
 * stored credentials did they take and use, and which secrets could each identity read. Each
 * answer is graded as an exact set against the answer key (a `list` of secrets in a namespace is
 * a read of every secret there). Feedback names the criterion and where to look; it never says
 * how many items are missing or extra, nor which.
 */
import { resultOf, type CriterionResult } from '../../../lib/check-result.ts';
import type { AnswerKey } from '../../scenarios/answer-key.ts';
import type { Check } from '../check.ts';

export const SCOPE_QUESTIONS = ['identities', 'stolen-credentials', 'reach'] as const;

/** Items of a list answer: commas, semicolons, newlines and spaces separate them. */
function items(text: string): string[] {
  return text.split(/[\s,;]+/).map((s) => s.trim().replace(/^["'`]|["'`]$/g, '')).filter(Boolean);
}

/** `system:serviceaccount:ns:name`, `serviceaccount/ns/name`, `ns/name` or `ns:name` → the username. */
export function normaliseIdentity(text: string): string {
  const t = text.trim().toLowerCase();
  const sa = /^(?:system:serviceaccount:|(?:serviceaccounts?|sa)[/:])?([a-z0-9-]+)[/:]([a-z0-9.-]+)$/.exec(t);
  return sa ? `system:serviceaccount:${sa[1]}:${sa[2]}` : t;
}

/** `ns/name`, `secret/ns/name`, `secrets/ns/name` or `ns:name` → `ns/name`. */
export function normaliseSecretRef(text: string): string {
  const t = text.trim().toLowerCase().replace(/^secrets?\//, '');
  const ref = /^([a-z0-9*-]+)[/:]([a-z0-9.*-]+)$/.exec(t);
  return ref ? `${ref[1]}/${ref[2]}` : t;
}

const sameSet = (a: Set<string>, b: Set<string>) => a.size === b.size && [...a].every((x) => b.has(x));

/** Expands `*`, `*\/*` and `ns/*` against every secret the cluster held when the attack ended. */
function expand(ref: string, all: string[]): string[] {
  if (ref === '*' || ref === '*/*') return all;
  if (ref.endsWith('/*')) return all.filter((s) => s.startsWith(ref.slice(0, -1)));
  return [ref];
}

/** `identity: ns/name, ns/*` per line (or separated by `;` or `|`, for one-line answer boxes) → the secrets each identity could read. */
export function parseReach(text: string, all: string[]): Map<string, Set<string>> {
  const reach = new Map<string, Set<string>>();
  for (const line of text.split(/[\n;|]/)) {
    // The identity ends at the first "=>", "->", "→", "=" or ":" followed by a space (identities hold colons).
    const match = /^\s*(.+?)\s*(?:=>|->|→|=|:(?=\s|$))\s*(.*)$/.exec(line);
    if (!match) continue;
    const identity = normaliseIdentity(match[1]!);
    const rest = match[2]!;
    const secrets = reach.get(identity) ?? new Set<string>();
    for (const item of items(rest)) for (const ref of expand(normaliseSecretRef(item), all)) secrets.add(ref);
    reach.set(identity, secrets);
  }
  return reach;
}

export function judgeScope(answers: Record<string, string>, key: AnswerKey): CriterionResult[] {
  const scope = key.scope;
  if (!scope) {
    return SCOPE_QUESTIONS.map((id) => ({ id, passed: false, message: 'this incident was seeded before scope facts were recorded: reset the lab for a fresh incident' }));
  }
  const identities = new Set(items(answers.identities ?? '').map(normaliseIdentity));
  const identitiesOk = sameSet(identities, new Set(scope.identities));
  const stolen = new Set(items(answers['stolen-credentials'] ?? '').map(normaliseSecretRef));
  const stolenOk = sameSet(stolen, new Set((key.tokenCredentials ?? []).map((c) => c.secret)));
  const all = scope.secrets.map((s) => `${s.namespace}/${s.name}`);
  const reach = parseReach(answers.reach ?? '', all);
  const reachOk = sameSet(new Set(reach.keys()), new Set(scope.identities)) && scope.identities.every((u) => sameSet(reach.get(u)!, new Set(scope.reach[u] ?? [])));
  return [
    {
      id: 'identities',
      passed: identitiesOk,
      message: identitiesOk
        ? 'these are exactly the identities the attacker acted as'
        : 'not exactly the identities the attacker acted as: follow the attack in the audit log, from the pod and from outside it, and list every user.username its requests used, and no other',
    },
    {
      id: 'stolen-credentials',
      passed: stolenOk,
      message: stolenOk
        ? 'these are exactly the stored credentials the attacker took and used'
        : 'not exactly the stored credentials the attacker took and used: which secret reads handed the attacker a token, and which later requests authenticated with it? (namespace/name of each Secret)',
    },
    {
      id: 'reach',
      passed: reachOk,
      message: reachOk
        ? 'for each compromised identity, exactly the secrets it could read'
        : 'for at least one compromised identity the secrets are not exactly those it could read (one line per identity, `identity: namespace/name, ...`): ask the API server what each may get, list or watch (kubectl auth can-i --list --as ... -n <namespace>); a list reads every secret in its namespace',
    },
  ];
}

export const scopeCheck: Check = {
  name: 'scope',
  description: 'The identities the attacker acted as, the stored credentials they took and used, and the secrets each identity could read, each graded as an exact set.',
  criteria: SCOPE_QUESTIONS,
  async run({ answers, answerKey }) {
    return resultOf(judgeScope(answers, answerKey));
  },
};
