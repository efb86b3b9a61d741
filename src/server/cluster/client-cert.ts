/**
 * A client certificate of its own for someone who must not hold the cluster's admin credential
 * (a drill participant). It is signed by the cluster's own CA, the one kube-apiserver trusts for
 * client certificates (kwokctl passes `--client-ca-file=<cluster>/pki/ca.crt`), so the API server
 * authenticates its CN as the username and each O as a group: the audit log then names the
 * holder, and RBAC alone decides what they may do.
 *
 * Signing uses Debian's openssl CLI (Node can verify X.509 but not issue it), always with argv and
 * never a shell. The subject is built only from names that pass SUBJECT_PART, never from a display
 * name. The certificate is a leaf (CA:FALSE, clientAuth only): its holder cannot sign another.
 */
import { generateKeyPair, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

import { nodeRunner, type Runner } from './runtime.ts';
import { capabilitiesOf, ClusterError, type ClusterInfo } from './types.ts';

/** A username or group: letters, digits and `:._-`, no subject syntax (`/`, `=`, `+`, `\`, spaces). */
export const SUBJECT_PART = /^[A-Za-z0-9][A-Za-z0-9:._-]{0,63}$/;

export interface ClientIdentity {
  user: string;
  groups: readonly string[];
}

export interface IssuedCertificate {
  certificatePem: string;
  keyPem: string;
}

export interface IssueOptions {
  /** A directory only the server reads; a private temporary directory is made (and removed) in it. */
  workDir: string;
  /** Validity; default 2 days (a drill lasts at most 8 hours and its cluster is deleted at the end). */
  days?: number;
  runner?: Runner;
  signal?: AbortSignal;
}

const OPENSSL = '/usr/bin/openssl';

// Our own config, so neither the system's openssl.cnf nor OPENSSL_CONF adds extensions (its
// v3_ca would make the leaf a CA able to sign certificates for anyone).
const CONFIG = `[req]
distinguished_name = dn
[dn]
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

/**
 * Where a cluster's CA lives: on the host beside the cluster where its control plane runs as
 * processes; where pods are real containers the control plane (and its CA) is inside a node.
 */
export function clusterCa(cluster: ClusterInfo): { certificate: string; key: string } {
  if (capabilitiesOf(cluster).realContainers) {
    throw new ClusterError(`cluster ${cluster.name} (${cluster.provider}) keeps its CA inside its node`, 'Per-person client certificates (drills) need a cluster whose control plane runs on the host (the embedded engine).');
  }
  return { certificate: path.join(cluster.dir, 'pki', 'ca.crt'), key: path.join(cluster.dir, 'pki', 'ca.key') };
}

export async function issueClientCertificate(cluster: ClusterInfo, identity: ClientIdentity, options: IssueOptions): Promise<IssuedCertificate> {
  for (const part of [identity.user, ...identity.groups]) {
    if (!SUBJECT_PART.test(part)) throw new ClusterError(`refusing to put ${JSON.stringify(part)} into a certificate subject`, 'Use letters, digits, ":", ".", "_" and "-" only.');
  }
  const ca = clusterCa(cluster);
  const runner = options.runner ?? nodeRunner;
  const { privateKey } = await promisify(generateKeyPair)('ec', { namedCurve: 'prime256v1' });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const dir = await mkdtemp(path.join(options.workDir, '.issue-'));
  try {
    const file = (name: string) => path.join(dir, name);
    await writeFile(file('key.pem'), keyPem, { mode: 0o600 });
    await writeFile(file('openssl.cnf'), CONFIG, { mode: 0o600 });
    const subject = `${identity.groups.map((g) => `/O=${g}`).join('')}/CN=${identity.user}`;
    const env = { PATH: '/usr/bin:/bin', OPENSSL_CONF: file('openssl.cnf') };
    const openssl = async (args: string[]) => {
      const result = await runner.run(OPENSSL, args, { env, timeoutMs: 20_000, ...(options.signal ? { signal: options.signal } : {}) });
      if (result.code === 127) throw new ClusterError(`${OPENSSL} is missing`, 'Install Debian\'s openssl (scripts/ensure-system-packages.sh does).');
      if (result.code !== 0) throw new ClusterError(`openssl ${args[0]} for ${identity.user} on cluster ${cluster.name} failed (exit ${result.code}): ${result.stderr.trim().split('\n').slice(-3).join(' ')}`);
    };
    await openssl(['req', '-new', '-config', file('openssl.cnf'), '-key', file('key.pem'), '-subj', subject, '-out', file('request.csr')]);
    await openssl([
      'x509', '-req', '-in', file('request.csr'), '-CA', ca.certificate, '-CAkey', ca.key,
      '-set_serial', `0x${randomBytes(16).toString('hex')}`, '-days', String(options.days ?? 2), '-sha256',
      '-extfile', file('openssl.cnf'), '-extensions', 'client', '-out', file('cert.pem'),
    ]);
    const certificatePem = await readFile(file('cert.pem'), 'utf8');
    // What the API server will see: our subject, a leaf, issued by this cluster's CA.
    const issued = new X509Certificate(certificatePem);
    const caCert = new X509Certificate(await readFile(ca.certificate));
    if (issued.ca || !issued.checkIssued(caCert) || !issued.subject.split('\n').includes(`CN=${identity.user}`)) {
      throw new ClusterError(`the certificate openssl issued for ${identity.user} on cluster ${cluster.name} is not the leaf that was asked for`);
    }
    return { certificatePem, keyPem };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
