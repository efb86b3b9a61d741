import { describe, expect, it } from 'vitest';
import { dangerousProbes, grants } from './rights-review.ts';

const probe = (says: string) => dangerousProbes(['production', 'ci', 'kube-system'], 'production').find((p) => p.says === says)!;

describe('rights review', () => {
  it('matches wildcards, subresources and named grants', () => {
    expect(grants([{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], probe('do anything (cluster-admin)'))).toBe(true);
    expect(grants([{ verbs: ['create'], apiGroups: [''], resources: ['serviceaccounts/token'] }], probe('mint tokens for service accounts (create serviceaccounts/token)'))).toBe(true);
    expect(grants([{ verbs: ['create'], apiGroups: [''], resources: ['serviceaccounts'] }], probe('mint tokens for service accounts (create serviceaccounts/token)'))).toBe(false);
    expect(grants([{ verbs: ['bind'], apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], resourceNames: ['cluster-admin'] }], probe('bind clusterroles'))).toBe(true);
    expect(grants([{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }], probe('create pods in kube-system'))).toBe(false);
  });
  it('leaves reads of secrets in the identity\'s own namespace alone', () => {
    const says = dangerousProbes(['production', 'ci'], 'production').filter((p) => p.resource === 'secrets').map((p) => p.namespace);
    expect(says).not.toContain('production');
    expect(says).toContain('ci');
  });
});
