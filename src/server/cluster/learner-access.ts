/**
 * Gives a learner their own identity on a kind lab cluster (see learner-policy.ts for what it may
 * do and why): arms the cluster's static admission policies (kind-boundary.ts; after the scenario
 * is seeded, since its world holds what a learner may not start), deletes the bootstrap tokens a
 * node credential could be minted from, applies the role and its binding as the cluster admin,
 * has the cluster's own signer issue a client certificate through the CertificateSigningRequest
 * API (so it works wherever the CA key lives, inside a kind node included), and proves the
 * policies are enforced for that certificate before handing it out: a learner never holds a
 * credential that could start a privileged pod, not even in the moment after arming.
 */
import { generateKeyPair } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import {
  AdmissionregistrationV1Api,
  ApiException,
  CertificatesV1Api,
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
  type V1CertificateSigningRequest,
} from '@kubernetes/client-node';

import { upsert } from '../drill/responders.ts';
import { SUBJECT_PART, type ClientIdentity, type IssuedCertificate } from './client-cert.ts';
import { staticManifest } from './kind-boundary.ts';
import { LEARNER_GROUP, LEARNER_ROLE, learnerBinding, learnerPolicies, learnerRole, policyBinding } from './learner-policy.ts';
import { nodeRunner, waitUntil, type Runner } from './runtime.ts';
import { ClusterError } from './types.ts';

/** Writes the static policy manifest where the cluster's API server loads it (KindProvider.armLearnerBoundary). */
export type ArmBoundary = (manifest: string) => Promise<void>;

export interface GrantOptions {
  /** Certificate lifetime; default 1 day (a lab run's cluster lives for hours). */
  expirationSeconds?: number;
  runner?: Runner;
  timeoutMs?: number;
}

const OPENSSL = '/usr/bin/openssl';
const CSR_CONFIG = '[req]\ndistinguished_name = dn\n[dn]\n';

/** The learner's policies as static manifests (armed), no bootstrap token left, the role and binding applied. */
export async function applyLearnerRbac(admin: KubeConfig, arm: ArmBoundary): Promise<void> {
  // The API server validates a static manifest as it would the API object, but a refused file only
  // shows in its log (the previous, empty set stays in force): a dry run through the API first
  // turns any mistake into an error here, with the API server's own message.
  const admission = admin.makeApiClient(AdmissionregistrationV1Api);
  for (const policy of learnerPolicies()) {
    await admission.createValidatingAdmissionPolicy({ body: policy, dryRun: 'All' });
    await admission.createValidatingAdmissionPolicyBinding({ body: policyBinding(policy), dryRun: 'All' });
  }
  // Policies before the role: the rights never exist without the limits.
  await arm(staticManifest(learnerPolicies(), policyBinding));
  // A bootstrap token (a kube-system Secret the learner may read) becomes a node's credential
  // through the auto-approved node CSR; a one-node lab cluster joins no node after its creation.
  const core = admin.makeApiClient(CoreV1Api);
  const tokens = await core.listNamespacedSecret({ namespace: 'kube-system', fieldSelector: 'type=bootstrap.kubernetes.io/token' });
  for (const secret of tokens.items) await core.deleteNamespacedSecret({ namespace: 'kube-system', name: secret.metadata!.name! }).catch(() => undefined);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  await upsert(learnerRole(), (body) => rbac.createClusterRole({ body }), () => rbac.readClusterRole({ name: LEARNER_ROLE }), (body) => rbac.replaceClusterRole({ name: LEARNER_ROLE, body }));
  await upsert(learnerBinding(), (body) => rbac.createClusterRoleBinding({ body }), () => rbac.readClusterRoleBinding({ name: LEARNER_GROUP }), (body) => rbac.replaceClusterRoleBinding({ name: LEARNER_GROUP, body }));
}

/** A PKCS#10 request for CN=user, one O per group (openssl CLI, argv only, our own config). */
async function certificateRequest({ user, groups }: ClientIdentity, runner: Runner): Promise<{ csrPem: string; keyPem: string }> {
  const { privateKey } = await promisify(generateKeyPair)('ec', { namedCurve: 'prime256v1' });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const dir = await mkdtemp(path.join(tmpdir(), 'irlab-learner-'));
  try {
    await writeFile(path.join(dir, 'key.pem'), keyPem, { mode: 0o600 });
    await writeFile(path.join(dir, 'openssl.cnf'), CSR_CONFIG, { mode: 0o600 });
    const result = await runner.run(OPENSSL, ['req', '-new', '-config', path.join(dir, 'openssl.cnf'), '-key', path.join(dir, 'key.pem'), '-subj', `${groups.map((g) => `/O=${g}`).join('')}/CN=${user}`, '-out', path.join(dir, 'request.csr')], {
      env: { PATH: '/usr/bin:/bin', OPENSSL_CONF: path.join(dir, 'openssl.cnf') },
      timeoutMs: 20_000,
    });
    if (result.code !== 0) throw new ClusterError(`openssl req for ${user} failed (exit ${result.code}): ${result.stderr.trim().split('\n').slice(-2).join(' ')}`);
    return { csrPem: await readFile(path.join(dir, 'request.csr'), 'utf8'), keyPem };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The cluster's kube-apiserver-client signer issues the certificate; the admin approves it. */
async function issueThroughCsr(admin: KubeConfig, identity: ClientIdentity, options: GrantOptions): Promise<IssuedCertificate> {
  const { user } = identity;
  const { csrPem, keyPem } = await certificateRequest(identity, options.runner ?? nodeRunner);
  const certificates = admin.makeApiClient(CertificatesV1Api);
  const name = `irlab-learner-${user.replace(/[^a-z0-9-]/gi, '-').toLowerCase()}-${Date.now().toString(36)}`;
  const csr: V1CertificateSigningRequest = {
    metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'irlab' } },
    spec: { request: Buffer.from(csrPem).toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], expirationSeconds: options.expirationSeconds ?? 86_400 },
  };
  const created = await certificates.createCertificateSigningRequest({ body: csr });
  created.status = { conditions: [{ type: 'Approved', status: 'True', reason: 'IrlabLearner', message: 'a learner identity for a lab cluster', lastUpdateTime: new Date() }] };
  await certificates.replaceCertificateSigningRequestApproval({ name, body: created });
  let certificate = '';
  await waitUntil(async () => {
    const current = await certificates.readCertificateSigningRequest({ name });
    if (current.status?.conditions?.some((c) => c.type === 'Failed' || c.type === 'Denied')) throw new ClusterError(`the cluster's signer refused the learner certificate ${name}`);
    certificate = current.status?.certificate ?? '';
    return certificate !== '';
  }, { timeoutMs: options.timeoutMs ?? 60_000, intervalMs: 250, what: `the cluster to sign certificate request ${name}` });
  // The request holds no secret; it is removed so a learner listing CSRs sees no one else's.
  await certificates.deleteCertificateSigningRequest({ name }).catch(() => undefined);
  return { certificatePem: Buffer.from(certificate, 'base64').toString('utf8'), keyPem };
}

/** The admin's cluster entry with the learner's certificate as the only user. */
export function learnerKubeConfig(admin: KubeConfig, user: string, issued: { certificatePem: string; keyPem: string }): KubeConfig {
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new ClusterError('the admin kubeconfig has no current cluster');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: user, certData: Buffer.from(issued.certificatePem).toString('base64'), keyData: Buffer.from(issued.keyPem).toString('base64') }],
    contexts: [{ name: user, cluster: cluster.name, user: user }],
    currentContext: user,
  });
  return kc;
}

const PROBE = 'irlab-learner-boundary-probe';

/** Waits until the API server enforces the pods policy on this kubeconfig (a dry-run privileged pod is refused). */
export async function waitForBoundary(learner: KubeConfig, timeoutMs = 90_000): Promise<void> {
  const core = learner.makeApiClient(CoreV1Api);
  await waitUntil(async () => {
    try {
      await core.createNamespacedPod({
        namespace: 'default',
        dryRun: 'All',
        body: { metadata: { name: PROBE }, spec: { containers: [{ name: 'probe', image: 'irlab.invalid/probe', securityContext: { privileged: true } }] } },
      });
      return false;
    } catch (error) {
      // 422 Invalid from a policy with reason Forbidden is 403; either way it must be ours.
      return error instanceof ApiException && String(error.body).includes('irlab: a learner\'s pods stay off the node');
    }
  }, { timeoutMs, intervalMs: 250, what: 'the learner admission policies to be enforced' });
}

/**
 * Applies the learner's rights and limits and returns the kubeconfig the learner's shell gets.
 * `user` becomes the certificate's CN (the audit log's user.username).
 */
export async function grantLearnerAccess(admin: KubeConfig, user: string, arm: ArmBoundary, options: GrantOptions = {}): Promise<KubeConfig> {
  checkBoundedIdentity({ user, groups: [LEARNER_GROUP] });
  await applyLearnerRbac(admin, arm);
  const learner = learnerKubeConfig(admin, user, await issueThroughCsr(admin, { user, groups: [LEARNER_GROUP] }, options));
  await waitForBoundary(learner, options.timeoutMs);
  return learner;
}

/**
 * Someone else held by the same boundary (a drill participant: their own username in the audit
 * log, their own role through another group): a certificate whose groups include LEARNER_GROUP,
 * so every learner policy applies to it. Only after grantLearnerAccess armed the cluster.
 */
export async function issueBoundedCertificate(admin: KubeConfig, identity: ClientIdentity, options: GrantOptions = {}): Promise<IssuedCertificate> {
  checkBoundedIdentity(identity);
  return issueThroughCsr(admin, identity, options);
}

/** A bounded identity: names a certificate subject can carry, not a system one, always in LEARNER_GROUP. */
function checkBoundedIdentity({ user, groups }: ClientIdentity): void {
  if (!SUBJECT_PART.test(user) || user.startsWith('system:')) throw new ClusterError(`refusing ${JSON.stringify(user)} as a learner's username`, 'Use letters, digits, ":", ".", "_" and "-", not starting with "system:".');
  const bad = groups.find((g) => !SUBJECT_PART.test(g) || g.startsWith('system:'));
  if (bad !== undefined) throw new ClusterError(`refusing ${JSON.stringify(bad)} as a learner's group`, 'Groups are plain names, not system ones.');
  if (!groups.includes(LEARNER_GROUP)) throw new ClusterError(`a certificate for ${user} must be in ${LEARNER_GROUP}: only that group is held by the learner policies`);
}
