// The learner's kubeconfig carries the admin's cluster entry and nothing of the admin's
// credential; a username that could pass for a system identity is refused before any request.
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';

import { grantLearnerAccess, issueBoundedCertificate, learnerKubeConfig } from './learner-access.ts';
import { LEARNER_GROUP } from './learner-policy.ts';

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

  it("refuses a drill participant's identity that is a system one, subject syntax, or outside the learner group, before any request", async () => {
    // The API server at 127.0.0.1:1 answers nothing: every refusal below comes before a request.
    const hostile: Array<{ user: string; groups: string[] }> = [
      { user: 'system:admin', groups: [LEARNER_GROUP] },
      { user: 'drill:ana.p1/CN=admin', groups: [LEARNER_GROUP] },
      { user: 'drill:ana.p1', groups: [LEARNER_GROUP, 'system:masters'] },
      { user: 'drill:ana.p1', groups: [LEARNER_GROUP, 'x/O=system:masters'] },
      { user: 'drill:ana.p1', groups: ['irlab:drill-responders'] },
      { user: 'd'.repeat(5_000), groups: [LEARNER_GROUP] },
      { user: 'drill:ana\u0000.p1', groups: [LEARNER_GROUP] },
    ];
    for (const identity of hostile) {
      await expect(issueBoundedCertificate(adminConfig(), identity, { timeoutMs: 1_000 }), JSON.stringify(identity).slice(0, 80)).rejects.toThrow(/refusing|must be in/);
    }
  });
});
