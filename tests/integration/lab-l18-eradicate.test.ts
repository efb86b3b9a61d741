// The L18 scope and eradicate steps on a REAL embedded cluster: feedback on a fresh incident
// names none of the attacker's objects; each wrong response from issue #16 fails the criterion it
// should (patching a dummy key into every Secret, granting web-app create serviceaccounts/token,
// egress to 0.0.0.0/0, egress to DNS only, a quarantined pod relabelled out of its Deployment);
// and correct variants pass (the known-good image by digest, the service account deleted and
// recreated, secrets rotated to any new value of the responder's choosing).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedLab } from '../../src/server/lab/labs.ts';
import type { LabService } from '../../src/server/lab/service.ts';
import type { AnswerKey } from '../../src/server/scenarios/answer-key.ts';
import { startL18Lab, type L18Lab } from './fixtures/l18-lab.ts';

let fixture: L18Lab;
let lab: LoadedLab;
let learner: string;
let key: AnswerKey;

const service = (): LabService => fixture.service({ checkTimeoutMs: 60_000 });

/** Runs shell commands as the learner would (kubectl on the lab cluster), failing loudly. */
async function sh(...commands: string[]) {
  const runs = await fixture.sh(commands, key, { timeoutMs: 150_000 });
  return runs.map((r) => r.output).join('');
}

async function solve(stepId: string) {
  await sh(...lab.lab.steps.find((s) => s.id === stepId)!.solution);
}

async function eradication() {
  const view = await service().check(learner, 'l18', 'eradicate', {});
  return new Map((view.result?.criteria ?? []).map((c) => [c.id, c]));
}

/** Strings a fresh incident's feedback must never contain: the attacker's objects and the scope. */
function secretsOfTheIncident(): string[] {
  return [
    ...key.bindingsCreated.map((b) => b.name), ...key.podsCreated.map((p) => p.name), key.compromisedPod.name,
    ...(key.scope?.identities ?? []).filter((u) => !u.endsWith(':web-app')), 'deployer', 'ci/', String(key.params.agentName),
  ];
}

beforeAll(async () => {
  fixture = await startL18Lab('irlab-eradicate-it-', { checkTimeoutMs: 60_000 });
  ({ lab, learner } = fixture);
  key = await fixture.key();
}, 180_000);

afterAll(async () => fixture?.close(), 60_000);

describe('L18 scope and eradication, judged by effect', () => {
  it('records the scope: both identities, both stolen tokens, what each could read', () => {
    const scope = key.scope!;
    expect(scope.identities.toSorted()).toEqual(['system:serviceaccount:ci:deployer', 'system:serviceaccount:production:web-app']);
    expect(scope.boundTokens.map((t) => t.username)).toEqual(['system:serviceaccount:production:web-app']);
    expect(key.tokenCredentials?.map((c) => c.secret)).toEqual(['ci/deployer-token']);
    expect(scope.reach['system:serviceaccount:ci:deployer']).toEqual(expect.arrayContaining(['ci/deployer-token', 'ci/registry-credentials']));
    expect(scope.reach['system:serviceaccount:production:web-app']).toEqual(expect.arrayContaining(['payments/payments-db', 'production/web-app-session-key']));
  });

  it('names none of the attacker\'s objects in feedback on a fresh cluster', async () => {
    const text = JSON.stringify([
      (await service().check(learner, 'l18', 'scope', { identities: 'system:serviceaccount:production:web-app', 'stolen-credentials': '', reach: '' })).result,
      (await service().check(learner, 'l18', 'eradicate', {})).result,
    ]);
    for (const leak of secretsOfTheIncident()) expect(text, leak).not.toContain(leak);
    expect(text).not.toMatch(/\b\d+ (of|missing|more|left)\b/);
  }, 120_000);

  it('grades the scope as exact sets, in any input form', async () => {
    const reach = Object.entries(key.scope!.reach).map(([u, refs]) => `${u.replace(/^system:serviceaccount:([^:]+):/, '$1/')} -> ${refs.join(' ')}`).join('\n');
    const right = await service().check(learner, 'l18', 'scope', { identities: 'ci/deployer\nSYSTEM:SERVICEACCOUNT:production:web-app', 'stolen-credentials': 'secret/ci/deployer-token', reach });
    expect(right.result?.criteria.filter((c) => !c.passed)).toEqual([]);
    const extra = await service().check(learner, 'l18', 'scope', {
      identities: 'production/web-app, ci/deployer, monitoring/prometheus', 'stolen-credentials': 'ci/deployer-token, payments/payments-db', reach: reach.replace(/ ci\/registry-credentials/, ''),
    });
    expect(extra.result?.criteria.map((c) => [c.id, c.passed])).toEqual([['identities', false], ['stolen-credentials', false], ['reach', false]]);
  }, 60_000);

  it('fails each wrong response of issue #16 on the criterion it breaks', async () => {
    await solve('contain');
    // A dummy key in every Secret rotates nothing: the old values and the legacy token remain.
    await sh(`for s in $(kubectl get secrets -A -o go-template='{{range .items}}{{.metadata.namespace}}/{{.metadata.name}} {{end}}'); do kubectl patch secret -n \${s%/*} \${s#*/} --type merge -p '{"stringData":{"rotated-at":"1"}}'; done`);
    // web-app may mint tokens: that is a way back in, whatever else was removed.
    await sh(
      'kubectl create clusterrole token-minter --verb=create --resource=serviceaccounts/token',
      'kubectl create clusterrolebinding web-app-token-minter --clusterrole=token-minter --serviceaccount=production:web-app',
      `kubectl delete clusterrolebinding ${key.bindingsCreated[0]!.name} web-app-config-reader`,
    );
    // Egress to 0.0.0.0/0 "limits" nothing.
    await sh(`kubectl apply -f - <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-app-egress, namespace: production}
spec:
  podSelector: {matchLabels: {app: web-app}}
  policyTypes: ["Egress"]
  egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0}}]}]
YAML`);
    // The quarantined pod, relabelled out of the Deployment's selector, survives the rollout.
    await sh(
      `kubectl label pod -n production ${key.compromisedPod.name} app-`,
      'kubectl set image deployment/web-app -n production web=registry.shop.internal/web-app:2.14.2',
      'kubectl rollout status deployment/web-app -n production --timeout=120s',
    );
    const wrong = await eradication();
    expect(wrong.get('secrets-rotated')?.passed).toBe(false);
    expect(wrong.get('secrets-rotated')?.message).toContain('still holds a value');
    expect(wrong.get('legacy-token-revoked')?.passed).toBe(false);
    expect(wrong.get('rights-revoked')?.passed).toBe(false);
    expect(wrong.get('rights-revoked')?.message).toMatch(/create serviceaccounts\/token|mint tokens/);
    expect(wrong.get('egress-limited')?.message).toContain('does not need');
    expect(wrong.get('known-good-image')?.passed).toBe(false);
    expect(wrong.get('known-good-image')?.message).toContain('relabelled');
    expect(wrong.get('pod-tokens-revoked')?.passed).toBe(false);

    // Egress to DNS only: limited, but the app has lost its database.
    await sh(`kubectl apply -f - <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-app-egress, namespace: production}
spec:
  podSelector: {matchLabels: {app: web-app}}
  policyTypes: ["Egress"]
  egress: [{ports: [{protocol: UDP, port: 53}]}]
YAML`);
    const dnsOnly = await eradication();
    expect(dnsOnly.get('egress-limited')?.passed).toBe(false);
    expect(dnsOnly.get('egress-limited')?.message).toContain('blocks what it needs: its database');
  }, 400_000);

  it('passes the correct variants: digest image, service account recreated, any new secret values', async () => {
    const digest = `registry.shop.internal/web-app@${key.compromisedPod.knownGoodDigest}`;
    await sh(
      'kubectl delete clusterrolebinding web-app-token-minter && kubectl delete clusterrole token-minter',
      `kubectl delete pod -n kube-system ${key.podsCreated[0]!.name}`,
      `kubectl delete pod -n production ${key.compromisedPod.name} --wait=false`,
      'kubectl delete secret -n ci deployer-token',
      // Instead of relying on pods alone: the service account deleted and recreated kills every token it had.
      'kubectl delete serviceaccount -n production web-app && kubectl create serviceaccount -n production web-app',
      `kubectl set image deployment/web-app -n production web=${digest}`,
      'kubectl rollout status deployment/web-app -n production --timeout=120s',
      // New values chosen by the responder, written whole (the dummy rotated-at key goes too).
      'kubectl create secret generic payments-db -n payments --from-literal=DATABASE_URL=postgres://payments:n3w-Pa55@payments-db.payments:5432/payments --dry-run=client -o yaml | kubectl replace -f -',
      'kubectl create secret generic stripe-api-key -n payments --from-literal=STRIPE_KEY=sk_live_rotated_by_ir --dry-run=client -o yaml | kubectl replace -f -',
      'kubectl create secret generic web-app-session-key -n production --from-literal=SESSION_KEY=another-session-key --dry-run=client -o yaml | kubectl replace -f -',
      'kubectl create secret generic registry-credentials -n ci --from-literal=REGISTRY_PASSWORD=ci-new-password --dry-run=client -o yaml | kubectl replace -f -',
    );
    const partial = await eradication();
    // The CI deployer still has its bind and kube-system rights: the rules review sees them.
    expect(partial.get('rights-revoked')?.passed).toBe(false);
    expect(partial.get('known-good-image')?.passed).toBe(true);
    expect(partial.get('pod-tokens-revoked')?.passed).toBe(true);
    expect(partial.get('secrets-rotated')?.passed).toBe(true);
    expect(partial.get('consumers-work')?.passed).toBe(true);
    await sh(
      `kubectl apply -f - <<'YAML'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: ci-deployer}
rules:
  - {apiGroups: [apps], resources: [deployments], verbs: [get, list, create, patch]}
  - {apiGroups: [""], resources: [services, configmaps], verbs: [get, list, create, patch, delete]}
YAML`,
      'kubectl delete clusterrolebinding ci-deployer',
      'kubectl create rolebinding ci-deployer -n production --clusterrole=ci-deployer --serviceaccount=ci:deployer',
      `kubectl apply -f - <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-app-egress, namespace: production}
spec:
  podSelector: {matchLabels: {app: web-app}}
  policyTypes: ["Egress"]
  egress:
    - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: payments}}}]
      ports: [{protocol: TCP, port: 5432}]
    - ports: [{protocol: UDP, port: 53}]
YAML`,
    );
    // (The payments namespace on 5432, and DNS to any address: both accepted, docs/grading.md.)
    const right = await eradication();
    expect([...right.values()].filter((c) => !c.passed)).toEqual([]);

    // A consumer whose Secret lost the key it reads breaks: rotation must keep the keys.
    await sh('kubectl create secret generic stripe-api-key -n payments --from-literal=KEY=sk_live_x --dry-run=client -o yaml | kubectl replace -f -');
    const broken = await eradication();
    expect(broken.get('consumers-work')?.passed).toBe(false);
    expect(broken.get('consumers-work')?.message).toContain('payments-api');
  }, 400_000);
});
