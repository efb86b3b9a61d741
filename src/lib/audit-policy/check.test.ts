import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SEED_POLICY } from '../../../tests/integration/audit-policy-cases.ts';
import { CANONICAL_REQUESTS } from './canonical.ts';
import { checkPolicyText } from './check.ts';
import { CRITERION_IDS } from './grade.ts';

const head = (omit = 'omitStages: ["RequestReceived"]\n') => `apiVersion: audit.k8s.io/v1\nkind: Policy\n${omit}rules:\n`;
const criterion = (text: string, id: string) => checkPolicyText(text).result.criteria.find((c) => c.id === id)!;

/** The "example policy" code block of the L18 lesson page. */
function lessonPolicy(): string {
  const mdx = readFileSync(new URL('../../content/lessons/l18-audit-logging-incident-response.mdx', import.meta.url), 'utf8');
  const section = mdx.slice(mdx.indexOf('### The example policy'));
  return /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
}

describe('the lesson policy', () => {
  it.each([
    ['as written on the lesson page', lessonPolicy()],
    ['as restored in the seed', SEED_POLICY],
  ])('passes every criterion %s', (_how, text) => {
    const { result, loaded } = checkPolicyText(text);
    expect(loaded.warnings).toEqual([]);
    expect(result.criteria.map((c) => [c.id, c.passed])).toEqual(CRITERION_IDS.map((id) => [id, true]));
    expect(result).toMatchObject({ passed: true, score: 1 });
  });

  it('warns that secret writes put the secret into the log, and reads do not', () => {
    const { warning } = criterion(SEED_POLICY, 'secrets-audited');
    expect(warning).toMatch(/create a secret in production, update secrets\/db-credentials in production, patch secrets\/db-credentials in production are logged at Request/);
    expect(warning).toMatch(/request bodies/);
    expect(warning).not.toMatch(/get secrets/);
    expect(warning).toMatch(/get, list, watch or delete at Request writes no secret data/);
  });
});

describe('criteria and their messages', () => {
  it('a bare catch-all: explains each miss with the rule that matched and where to put the fix', () => {
    const { result, rows } = checkPolicyText(`${head('')}  - level: Metadata\n`);
    expect(result.criteria.map((c) => [c.id, c.passed])).toEqual([
      ['policy-accepted', true],
      ['secrets-audited', true],
      ['rbac-changes-at-request-response', false],
      ['pod-exec-at-request', false],
      ['nodes-namespaces-at-metadata', true],
      ['everything-else-at-metadata', true],
      ['every-identity-audited', true],
      ['response-bodies-bounded', true],
      ['request-received-omitted', false],
    ]);
    expect(result.score).toBe(0.667);
    // Secrets at Metadata pass, and the message says what that level keeps and gives up.
    expect(result.criteria[1]!.message).toMatch(/^all 8 secrets requests are logged at Metadata or above \(Metadata by rules\[0\]\)\. At Metadata .*no secret value lands in the log; the price is no record of what was written into a secret$/);
    expect(result.criteria[2]!.message).toBe(
      '7 of 7 RBAC changes need RequestResponse: create a clusterrolebinding and create a rolebinding in production (as system:serviceaccount:default:default) are logged at Metadata by rules[0] (line 4: level: Metadata); ' +
        'create a role in production, create a clusterrole, update clusterrolebindings/irlab-probe and 2 more (as kubernetes-admin) are logged at Metadata by rules[0] (line 4: level: Metadata). ' +
        'Fix: put an RBAC rule, - {level: RequestResponse, resources: [{group: "rbac.authorization.k8s.io", resources: ["roles", "rolebindings", "clusterroles", "clusterrolebindings"]}]}, above rules[0]',
    );
    expect(result.criteria[8]!.message).toMatch(/omitStages: \[RequestReceived\]/);
    expect(rows).toHaveLength(CANONICAL_REQUESTS.length);
  });

  it('a None rule on top: says the request is dropped and by which rule', () => {
    const { message } = criterion(`${head()}  - level: None\n    verbs: ["get"]\n  - level: RequestResponse\n`, 'pod-exec-at-request');
    expect(message).toBe(
      '2 of 5 exec, attach and port-forward requests need at least Request: exec into pods/web-app in production (GET, WebSocket) and port-forward to pods/web-app in production (GET, WebSocket) ' +
        '(as system:serviceaccount:default:default) are dropped (level None) by rules[0] (line 5: level: None, verbs: ["get"]). ' +
        'Fix: put a rule for them, - {level: Request, resources: [{group: "", resources: ["pods/exec", "pods/attach", "pods/portforward"]}]}, above rules[0]',
    );
  });

  it('no matching rule: says nothing matches and to add the rule', () => {
    const { message, passed } = criterion(`${head()}  - level: Request\n    resources: [{ group: "", resources: ["secrets"] }]\n`, 'everything-else-at-metadata');
    expect(passed).toBe(false);
    expect(message).toMatch(/are not logged at all: no rule matches them, so the level is None/);
    expect(message).toMatch(/Fix: add a catch-all at the end of the rules, - \{level: Metadata\}, \(no rule matches these requests now\)$/);
  });

  it('a rule that catches other requests too low: suggests a rule above it, or narrowing it', () => {
    const { message } = criterion(`${head()}  - level: None\n    namespaces: ["production"]\n  - level: Metadata\n`, 'everything-else-at-metadata');
    expect(message).toMatch(/Fix: put a Metadata rule that matches them \(or narrow that rule so it does not catch them\) above rules\[0\]$/);
  });

  it('namespaces: [""] misses named namespaces', () => {
    const text = `${head()}  - level: Metadata\n    namespaces: [""]\n  - level: None\n    resources: [{ group: "", resources: ["namespaces"] }]\n  - level: Metadata\n`;
    const { passed, message } = criterion(text, 'nodes-namespaces-at-metadata');
    expect(passed).toBe(false);
    expect(message).toMatch(/^2 of 7 node and namespace requests need at least Metadata: get namespaces\/kube-system and delete namespaces\/production \(as [^)]*\) are dropped \(level None\) by rules\[1\]/);
  });

  it('RBAC: writes must be RequestResponse, reads need only Metadata', () => {
    const text = `${head()}  - level: RequestResponse
    verbs: ["create", "update", "patch", "delete"]
    resources: [{ group: "rbac.authorization.k8s.io" }]
  - level: Request
    resources: [{ group: "", resources: ["secrets", "pods/exec", "pods/attach", "pods/portforward"] }]
  - level: Metadata
`;
    const { result } = checkPolicyText(text);
    expect(result.passed).toBe(true);
    const tooLow = criterion(text.replace('level: RequestResponse', 'level: Request'), 'rbac-changes-at-request-response');
    expect(tooLow.message).toMatch(/^7 of 7 RBAC changes need RequestResponse: create a clusterrolebinding and create a rolebinding in production \(as [^)]*\) are logged at Request by rules\[0\]/);
  });

  it('RequestResponse everywhere: warns about secrets in responses and minted tokens, and fails the response-bodies criterion', () => {
    const text = `${head()}  - level: RequestResponse\n`;
    const bodies = criterion(text, 'response-bodies-bounded');
    expect(bodies.passed).toBe(false);
    expect(bodies.message).toMatch(/^response bodies are logged for routine reads and for secrets and tokens alike, .*credential store/);
    expect(checkPolicyText(text).result.passed).toBe(false);
    expect(criterion(text, 'secrets-audited').warning).toMatch(/get secrets\/db-credentials in production, list secrets in production, list secrets in all namespaces, create a secret .* are logged at RequestResponse, so their responses \(the secret, every secret listed, every secret in the cluster/);
    expect(criterion(text, 'everything-else-at-metadata').warning).toMatch(/create serviceaccounts\/web-app\/token in production are logged at RequestResponse, so their responses \(the new token\)/);
  });

  it('RequestReceived omitted per rule counts as well as globally', () => {
    const text = `${head('')}  - level: Metadata\n    verbs: ["get"]\n    omitStages: ["RequestReceived"]\n  - level: Metadata\n`;
    const { passed, message } = criterion(text, 'request-received-omitted');
    expect(passed).toBe(false);
    expect(message).toMatch(/^\d+ of \d+ requests record a RequestReceived event as well as ResponseComplete, e\.g\. list secrets in production by rules\[1\]/);
  });

  it('a refused policy fails every criterion with the reason first and scores 0', () => {
    const { result, rows } = checkPolicyText(`${head()}  - level: Loud\n`);
    expect(result).toMatchObject({ passed: false, score: 0 });
    expect(result.criteria).toHaveLength(CRITERION_IDS.length);
    expect(result.criteria[0]!.message).toBe('the API server refuses this policy: rules[0].level, line 5: "Loud" is not a level (fix: use one of None, Metadata, Request, RequestResponse)');
    expect(result.criteria.slice(1).every((c) => !c.passed && /not checked/.test(c.message))).toBe(true);
    expect(rows).toEqual([]);
  });
});
