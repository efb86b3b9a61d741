// A learner's own identity on a REAL kind cluster (src/server/cluster/learner-access.ts): every way
// to reach the node that kind-labs.test.ts proves with the admin credential is refused, for the
// learner and for the tokens the incident hands them, while L18's containment, evidence and
// eradication still pass with the learner's kubeconfig alone.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { binDir, readEngineVersions } from '../../src/server/cluster/binaries.ts';
import type { KindProvider } from '../../src/server/cluster/kind-provider.ts';
import { loadKubeConfig } from '../../src/server/cluster/kube.ts';
import { grantLearnerAccess } from '../../src/server/cluster/learner-access.ts';
import type { ClusterInfo } from '../../src/server/cluster/types.ts';
import type { Check } from '../../src/server/lab/check.ts';
import { eradicationCheck } from '../../src/server/lab/checks/eradication.ts';
import { evidenceCheck } from '../../src/server/lab/checks/evidence.ts';
import { quarantineCheck } from '../../src/server/lab/checks/quarantine.ts';
import { runSolution } from '../../src/server/lab/solution.ts';
import type { AnswerKey } from '../../src/server/scenarios/answer-key.ts';
import { seededKindCluster, type SeededKind } from './seeded-cluster.ts';

const exec = promisify(execFile);
const bin = binDir(readEngineVersions());
const kubectl = join(bin, 'kubectl');
const root = process.cwd();
let cluster: SeededKind | undefined;
let name: string;
const IMAGE = 'registry.shop.internal/web-app:2.14.1';
const OFF_NODE = "irlab: a learner's pods stay off the node";
let stateDir: string;
let workspace: string;
let learnerPath: string;
let provider: KindProvider;
let info: ClusterInfo;
let key: AnswerKey;

interface Ran { code: number; out: string }

/** kubectl as someone: `--kubeconfig` for the learner, or a bearer token borrowed by the learner. */
async function as(who: { kubeconfig: string } | { token: string }, args: string[], stdin?: string): Promise<Ran> {
  const auth = ['--kubeconfig', 'kubeconfig' in who ? who.kubeconfig : await tokenKubeconfig(who.token)];
  const script = `"${kubectl}" ${[...auth, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ')}`;
  try {
    const { stdout, stderr } = await exec('bash', ['-c', stdin === undefined ? script : `${script} <<'YAML'\n${stdin}\nYAML`], { timeout: 60_000 });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}
/** The admin's cluster entry with nothing but a bearer token, as the learner would write it. */
async function tokenKubeconfig(token: string): Promise<string> {
  const cluster = loadKubeConfig(info.kubeconfigPath).getCurrentCluster()!;
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [cluster], users: [{ name: 'borrowed', token }], contexts: [{ name: 'borrowed', cluster: cluster.name, user: 'borrowed' }], currentContext: 'borrowed' });
  const file = join(stateDir, `token-${randomBytes(4).toString('hex')}.kubeconfig`);
  await writeFile(file, kc.exportConfig(), { mode: 0o600 });
  return file;
}
const learner = (args: string[], stdin?: string) => as({ kubeconfig: learnerPath }, args, stdin);
const admin = (args: string[], stdin?: string) => as({ kubeconfig: info.kubeconfigPath }, args, stdin);

const pod = (spec: string) => `apiVersion: v1
kind: Pod
metadata: {name: escape, namespace: production}
spec:
${spec}`;
const container = (extra = '') => `  containers: [{name: x, image: "${IMAGE}", imagePullPolicy: IfNotPresent${extra}}]`;

async function check(c: Check): Promise<{ id: string; passed: boolean; message: string }[]> {
  const result = await c.run(
    { cluster: info, provider, kubeConfig: loadKubeConfig(info.kubeconfigPath), workspace, answerKey: key, answers: {}, questions: [], auditEvents: async () => [] },
    AbortSignal.timeout(180_000),
  );
  return result.criteria;
}

beforeAll(async () => {
  cluster = await seededKindCluster('kind-learner', 'compromised-web-app', 'kind-learner');
  ({ name, stateDir, workspace, provider, info, key } = cluster);
  const kc = await grantLearnerAccess(loadKubeConfig(info.kubeconfigPath), 'learner:alice', (manifest) => provider.armLearnerBoundary(name, manifest), { timeoutMs: 90_000 });
  learnerPath = join(stateDir, 'learner.kubeconfig');
  await writeFile(learnerPath, kc.exportConfig(), { mode: 0o600 });
}, 900_000);

afterAll(() => cluster?.remove(), 180_000);

describe('a learner on kind holds their own certificate, not the admin credential', () => {
  it('is learner:alice in irlab:learners, and cannot act as anyone else', async () => {
    expect((await learner(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username} {.status.userInfo.groups}'])).out).toMatch(/^learner:alice \["irlab:learners","system:authenticated"\]/);
    for (const [verb, resource, sub] of [['impersonate', 'users'], ['escalate', 'clusterroles'], ['bind', 'clusterroles'], ['create', 'serviceaccounts', 'token'], ['create', 'certificatesigningrequests'], ['update', 'certificatesigningrequests', 'approval'], ['get', 'nodes', 'proxy'], ['delete', 'validatingadmissionpolicies']] as const) {
      const args = ['auth', 'can-i', verb, resource, '-A', ...(sub ? [`--subresource=${sub}`] : [])];
      // Impersonation is refused before RBAC is asked, so can-i adds the authorizer's reason.
      expect((await learner(args)).out.trim(), args.join(' ')).toMatch(/^no\b/);
    }
    // GET on nodes/proxy is the kubelet's API (exec into any container of the node): a read-all '*' would grant it.
    const node = (await admin(['get', 'nodes', '-o', 'jsonpath={.items[0].metadata.name}'])).out.trim();
    expect((await learner(['get', '--raw', `/api/v1/nodes/${node}/proxy/pods`])).out).toMatch(/forbidden: User "learner:alice" cannot get resource "nodes\/proxy"/);
  });
});

describe('every way to the node is refused, with the policy\'s message', () => {
  it('refuses privileged, hostPID, hostPath, hostPort and added-capability pods, and privileged templates', async () => {
    const refusals: [string, string, RegExp][] = [
      ['privileged pod', pod(container(', securityContext: {privileged: true}')), /no privileged container/],
      ['hostPID pod', pod(`  hostPID: true\n${container()}`), /no hostPID, hostIPC or hostNetwork/],
      ['hostNetwork pod', pod(`  hostNetwork: true\n${container()}`), /no hostPID, hostIPC or hostNetwork/],
      ['hostPath pod', pod(`${container(', volumeMounts: [{name: h, mountPath: /host}]')}\n  volumes: [{name: h, hostPath: {path: /}}]`), /no hostPath volume/],
      ['SYS_ADMIN pod', pod(container(', securityContext: {capabilities: {add: [SYS_ADMIN]}}')), /no capability beyond/],
      ['hostPort pod', pod(container(', ports: [{containerPort: 80, hostPort: 80}]')), /no hostPort/],
      ['privileged Deployment', `apiVersion: apps/v1
kind: Deployment
metadata: {name: escape, namespace: production}
spec:
  selector: {matchLabels: {app: escape}}
  template:
    metadata: {labels: {app: escape}}
    spec:
    ${container(', securityContext: {privileged: true}')}`, /no privileged container/],
      ['privileged CronJob', `apiVersion: batch/v1
kind: CronJob
metadata: {name: escape, namespace: production}
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          hostPID: true
        ${container()}`, /no hostPID/],
      ['pod in kube-system', pod(container()).replace('namespace: production', 'namespace: kube-system'), /nothing is started in a system namespace/],
    ];
    for (const [what, manifest, message] of refusals) {
      const ran = await learner(['create', '-f', '-'], manifest);
      expect(ran.code, what).not.toBe(0);
      expect(ran.out, what).toContain(OFF_NODE);
      expect(ran.out, what).toMatch(message);
    }
    expect((await learner(['get', 'pods,deployments,cronjobs', '-n', 'production', '-o', 'name'])).out).not.toMatch(/\/escape\b/);
  });

  it('refuses a privileged ephemeral container in an ordinary pod', async () => {
    const ran = await learner(['debug', '-n', 'production', key.compromisedPod.name, `--image=${IMAGE}`, '--profile=sysadmin', '--', 'true']);
    expect(ran.code).not.toBe(0);
    expect(ran.out).toContain(`${OFF_NODE}: no privileged container`);
  });

  it('refuses exec into the cluster\'s own pods (privileged kube-proxy, host-network control plane)', async () => {
    const proxy = (await admin(['get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=kube-proxy', '-o', 'jsonpath={.items[0].metadata.name}'])).out.trim();
    expect(proxy).not.toBe('');
    const ran = await learner(['exec', '-n', 'kube-system', proxy, '--', 'true']);
    expect(ran.code).not.toBe(0);
    expect(ran.out).toContain('irlab: a learner does not exec, attach or port-forward into the cluster\'s own pods');
  });

  it('refuses the RBAC ways out: cluster-admin, tokens, CSRs, the policies, its own role', async () => {
    const refused = async (args: string[], message: RegExp) => {
      const ran = await learner(args);
      expect(ran.code, args.join(' ')).not.toBe(0);
      expect(ran.out, args.join(' ')).toMatch(message);
    };
    const rbac = /forbidden: User "learner:alice" cannot/;
    // RBAC's escalation check: the learner grants only what they hold.
    await refused(['create', 'clusterrolebinding', 'me', '--clusterrole=cluster-admin', '--user=learner:alice'], /is attempting to grant RBAC permissions not currently held/);
    await refused(['create', 'token', 'default', '-n', 'production'], rbac);
    const pending = await admin(['create', '-f', '-'], `apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata: {name: pending-by-admin}
spec:
  request: ${Buffer.from((await exec('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', '/dev/null', '-subj', '/O=irlab:learners/CN=learner:mallory'])).stdout).toString('base64')}
  signerName: kubernetes.io/kube-apiserver-client
  usages: [client auth]`);
    expect(pending.out).toMatch(/pending-by-admin created/);
    await refused(['certificate', 'approve', 'pending-by-admin'], rbac);
    await refused(['delete', 'validatingadmissionpolicy', 'irlab-learner-pods'], rbac);
    await refused(['delete', 'validatingadmissionpolicybinding', 'irlab-learner-pods'], rbac);
    await refused(['patch', 'clusterrole', 'irlab:learner', '--type=json', '-p=[{"op":"add","path":"/rules/0/verbs/-","value":"*"}]'], /not currently held|the learner's own role and binding are the platform's/);
    // Least privilege given back, as leaked-ci-token's eradication does, is the learner's to do.
    expect((await learner(['create', 'role', 'reader', '-n', 'production', '--verb=get', '--resource=pods'])).out).toMatch(/created/);
    expect((await learner(['create', 'rolebinding', 'reader', '-n', 'production', '--role=reader', '--serviceaccount=production:default'])).out).toMatch(/created/);
    await refused(['delete', 'clusterrole', 'irlab:learner'], /the learner's own role and binding are the platform's/);
    await refused(['delete', 'clusterrolebinding', 'irlab:learners'], /the learner's own role and binding are the platform's/);
    expect((await admin(['get', 'clusterrole', 'irlab:learner', '-o', 'jsonpath={.rules[0].verbs}'])).out).toBe('["get","list","watch"]');
  });

  it('holds for the tokens the incident hands the learner (a legacy token Secret, the compromised pod\'s own)', async () => {
    const ci = Buffer.from((await learner(['get', 'secret', '-n', 'ci', 'deployer-token', '-o', 'jsonpath={.data.token}'])).out, 'base64').toString();
    expect(ci.length).toBeGreaterThan(20);
    // The CI deployer may bind cluster-admin: RBAC would let it; the policy does not.
    const bound = await as({ token: ci }, ['create', 'clusterrolebinding', 'me-via-ci', '--clusterrole=cluster-admin', '--serviceaccount=ci:deployer']);
    expect(bound.out).toContain('irlab: a borrowed token removes roles and bindings during an incident, never creates or rewrites them');
    const minted = await as({ token: ci }, ['create', 'token', 'deployer', '-n', 'ci']);
    expect(minted.code).not.toBe(0);
    // The compromised pod's token is bound to cluster-admin by the attacker; still no way to the node.
    const privileged = await as({ token: await stolenToken() }, ['create', '-f', '-'], pod(container(', securityContext: {privileged: true}')));
    expect(privileged.out).toContain(`${OFF_NODE}: no privileged container`);
  });
});

/** The compromised pod's own token, which the attacker bound to cluster-admin, read as the learner would. */
async function stolenToken(): Promise<string> {
  const token = (await learner(['exec', '-n', 'production', key.compromisedPod.name, '--', 'cat', '/var/run/secrets/kubernetes.io/serviceaccount/token'])).out.trim();
  expect(token.split('.')).toHaveLength(3);
  return token;
}

// Finding 9's last step, measured before the policies were static manifests: the stolen
// cluster-admin token deleted the policies' binding, then started a privileged pod.
describe('a borrowed cluster-admin cannot lift the boundary', () => {
  it('finds no policy to delete, cannot add admission objects, impersonate, mount a node path or reach the kubelet', async () => {
    const stolen = { token: await stolenToken() };
    expect((await as(stolen, ['auth', 'can-i', '*', '*'])).out.trim()).toBe('yes');
    // The static policies are not API objects: nothing to list, nothing to delete.
    expect((await as(stolen, ['get', 'validatingadmissionpolicies,validatingadmissionpolicybindings', '-o', 'name'])).out).not.toMatch(/irlab/);
    await as(stolen, ['delete', 'validatingadmissionpolicybindings', '--all']);
    expect((await as(stolen, ['create', '-f', '-'], pod(container(', securityContext: {privileged: true}')))).out).toContain(`${OFF_NODE}: no privileged container`);
    const refused = async (args: string[], message: RegExp, stdin?: string) => {
      const ran = await as(stolen, args, stdin);
      expect(ran.code, args.join(' ')).not.toBe(0);
      expect(ran.out, args.join(' ')).toMatch(message);
    };
    await refused(['create', '-f', '-'], /mutatingadmissionpolicies are the platform's/, `apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicy
metadata: {name: rewrite-system-pods}
spec:
  failurePolicy: Fail
  reinvocationPolicy: Never
  matchConstraints: {resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}]}
  mutations: [{patchType: ApplyConfiguration, applyConfiguration: {expression: "Object{}"}}]`);
    await refused(['create', '-f', '-'], /persistentvolumes are the platform's/, `apiVersion: v1
kind: PersistentVolume
metadata: {name: node-root}
spec: {capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], hostPath: {path: /}}`);
    // Impersonation would make admission see a system identity instead of the token's.
    await refused(['get', 'pods', '--as=kubernetes-admin', '--as-group=kubeadm:cluster-admins'], /cannot impersonate/);
    await refused(['get', 'pods', '--as=system:serviceaccount:kube-system:daemon-set-controller'], /cannot impersonate/);
    await refused(['create', '-f', '-', '--as=system:serviceaccount:kube-system:daemon-set-controller'], /cannot impersonate/, pod(container(', securityContext: {privileged: true}')));
    // Asking what an identity may do stays open (the can-i of incident scoping), and is all it can do.
    expect((await learner(['auth', 'can-i', '--list', '--as=system:serviceaccount:production:web-app', '-n', 'production'])).code).toBe(0);
    expect((await learner(['auth', 'can-i', 'create', 'pods', '--as=system:serviceaccount:kube-system:daemon-set-controller', '-n', 'kube-system'])).out.trim()).toMatch(/^(yes|no)$/);
    expect((await learner(['get', 'pods', '-n', 'kube-system', '--as=system:serviceaccount:kube-system:daemon-set-controller'])).out).toMatch(/cannot impersonate/);
    const node = (await admin(['get', 'nodes', '-o', 'jsonpath={.items[0].metadata.name}'])).out.trim();
    await refused(['get', '--raw', `/api/v1/nodes/${node}/proxy/pods`], /nodes\/proxy are the platform's/);
    await refused(['create', 'configmap', 'x', '-n', 'kube-system'], /the system namespaces .* are the platform's/);
    // Isolating the node: cordon, and a drain's evictions reach kube-system too (deleting does anyway).
    expect((await learner(['cordon', node])).out).toMatch(/cordoned/);
    const coredns = (await admin(['get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=kube-dns', '-o', 'jsonpath={.items[0].metadata.name}'])).out.trim();
    expect((await learner(['create', '--raw', `/api/v1/namespaces/kube-system/pods/${coredns}/eviction`, '-f', '-'], JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: coredns, namespace: 'kube-system' }, deleteOptions: { dryRun: ['All'] } }))).code).toBe(0);
    expect((await learner(['uncordon', node])).out).toMatch(/uncordoned/);
    await refused(['debug', `node/${node}`, `--image=${IMAGE}`, '--', 'true'], /no hostPID/);
    // A node credential could be minted from a bootstrap token: arming removed them.
    expect((await admin(['get', 'secrets', '-n', 'kube-system', '--field-selector=type=bootstrap.kubernetes.io/token', '-o', 'name'])).out.trim()).toBe('');
  });

  it('keeps learners out of pods that share the node, while the world\'s own pods can still be labelled', async () => {
    // What a node-escape scenario's world holds: a privileged host-PID pod, its namespace marked.
    await admin(['create', 'namespace', 'node-tools']);
    await admin(['label', 'namespace', 'node-tools', 'irlab.dev/learner-connect=refused']);
    const monitor = pod(`  hostPID: true\n${container(', securityContext: {privileged: true}')}`).replace('name: escape, namespace: production', 'name: monitor, namespace: node-tools');
    expect((await admin(['create', '-f', '-'], monitor)).out).toMatch(/created/);
    const stolen = { token: await stolenToken() };
    for (const who of [{ kubeconfig: learnerPath }, stolen]) {
      expect((await as(who, ['exec', '-n', 'node-tools', 'monitor', '--', 'true'])).out).toMatch(/pods that share the node/);
      expect((await as(who, ['debug', '-n', 'node-tools', 'monitor', `--image=${IMAGE}`, '--', 'true'])).out).toMatch(/no ephemeral container in a namespace whose pods share the node/);
      expect((await as(who, ['label', 'namespace', 'node-tools', 'irlab.dev/learner-connect-'])).out).toMatch(/label is the platform's|forbidden/);
    }
    expect((await learner(['label', 'pod', '-n', 'node-tools', 'monitor', 'quarantine=true'])).out).toMatch(/labeled/);
    // It runs the compromised image: L18's eradication below would rightly count it.
    await admin(['delete', 'namespace', 'node-tools', '--wait=true', '--timeout=120s']);
  });
});

describe('L18 with the learner\'s kubeconfig alone', () => {
  it('contains, preserves evidence and eradicates; the checks pass', async () => {
    const lab = parse(await readFile(join(root, 'labs/l18/lab.yaml'), 'utf8')) as { steps: { id: string; solution: string[] }[] };
    const steps = new Map(lab.steps.map((s) => [s.id, s.solution]));
    for (const [id, c] of [['contain', quarantineCheck], ['evidence', evidenceCheck], ['eradicate', eradicationCheck]] as const) {
      const runs = await runSolution(steps.get(id)!, key, { workspace, kubeconfig: learnerPath, binDir: bin, timeoutMs: 150_000 });
      expect(runs.filter((r) => r.exitCode !== 0), id).toEqual([]);
      expect((await check(c)).filter((r) => !r.passed), id).toEqual([]);
    }
  }, 900_000);
});
