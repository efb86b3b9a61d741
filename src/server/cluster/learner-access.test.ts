// The learner's kubeconfig carries the admin's cluster entry and nothing of the admin's
// credential; a username that could pass for a system identity is refused before any request.
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';

import { grantLearnerAccess, learnerKubeConfig } from './learner-access.ts';

function adminConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'lab', server: 'https://127.0.0.1:1', caData: 'Q0E=' }],
    users: [{ name: 'admin', certData: 'QURNSU4tQ0VSVA==', keyData: 'QURNSU4tS0VZ' }],
    contexts: [{ name: 'lab', cluster: 'lab', user: 'admin' }],
    currentContext: 'lab',
  });
  return kc;
}

describe('the learner kubeconfig', () => {
  it('holds the learner certificate and the cluster, never the admin credential', () => {
    const exported = learnerKubeConfig(adminConfig(), 'learner:alice', { certificatePem: 'LEARNER-CERT', keyPem: 'LEARNER-KEY' }).exportConfig();
    expect(exported).toContain(Buffer.from('LEARNER-CERT').toString('base64'));
    expect(exported).toContain('https://127.0.0.1:1');
    expect(exported).not.toContain('QURNSU4tQ0VSVA==');
    expect(exported).not.toContain('QURNSU4tS0VZ');
  });

  it('refuses usernames that are system identities or subject syntax, before any request', async () => {
    const armed: string[] = [];
    for (const user of ['system:admin', 'system:node:x', 'a/CN=admin', 'x,O=system:masters', '']) {
      await expect(grantLearnerAccess(adminConfig(), user, async (m) => void armed.push(m))).rejects.toThrow(/refusing/);
    }
    expect(armed).toEqual([]);
  });
});
