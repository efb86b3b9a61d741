import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { checkAuditPolicy, DEFAULT_AUDIT_POLICY, loadAuditPolicy } from './audit-policy.ts';
import { ClusterError } from './types.ts';

describe('checkAuditPolicy', () => {
  it('accepts the default policy', () => {
    expect(checkAuditPolicy(DEFAULT_AUDIT_POLICY)).toEqual({ ok: true, errors: [] });
  });

  it('accepts a realistic multi-rule policy', () => {
    const policy = `apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: None
    nonResourceURLs: ["/healthz*", "/readyz*", "/livez*"]
  - level: RequestResponse
    resources: [{ group: "", resources: ["secrets"] }]
  - level: Metadata
`;
    expect(checkAuditPolicy(policy).ok).toBe(true);
  });

  it('accepts duplicate keys, as kube-apiserver does (the last one wins)', () => {
    expect(checkAuditPolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Verbose\n    level: Metadata\n')).toEqual({ ok: true, errors: [] });
  });

  it('names each problem it finds', () => {
    const check = checkAuditPolicy('apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules:\n  - level: Verbose\n  - resources: []\n');
    expect(check.ok).toBe(false);
    expect(check.errors).toEqual([
      'apiVersion must be audit.k8s.io/v1, got "audit.k8s.io/v1beta1"',
      'rules[0].level must be one of None, Metadata, Request, RequestResponse, got "Verbose"',
      'rules[1].level must be one of None, Metadata, Request, RequestResponse, got undefined',
    ]);
  });

  it('refuses non-YAML, non-mappings and policies without rules', () => {
    expect(checkAuditPolicy('rules: [').errors[0]).toMatch(/^not valid YAML/);
    expect(checkAuditPolicy('- a\n- b').errors[0]).toMatch(/expected a YAML mapping/);
    expect(checkAuditPolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\n').errors).toEqual([
      'rules must be a non-empty list (the API server refuses a policy without rules)',
    ]);
  });
});

describe('loadAuditPolicy', () => {
  it('returns the text of a valid file and a ClusterError with a hint otherwise', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'irlab-policy-test-'));
    try {
      const good = join(dir, 'good.yaml');
      const bad = join(dir, 'bad.yaml');
      await writeFile(good, DEFAULT_AUDIT_POLICY);
      await writeFile(bad, 'kind: Policy\n');
      expect(await loadAuditPolicy(good)).toBe(DEFAULT_AUDIT_POLICY);
      const err = await loadAuditPolicy(bad).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ClusterError);
      expect((err as ClusterError).hint).toMatch(/audit-policy/);
      await expect(loadAuditPolicy(join(dir, 'missing.yaml'))).rejects.toThrow(/cannot read audit policy/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
