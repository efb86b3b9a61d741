import { describe, expect, it } from 'vitest';
import { ACCEPTED_POLICIES, REFUSED_POLICIES } from '../../../tests/integration/audit-policy-cases.ts';
import { loadPolicy, loadPolicyObject } from './validate.ts';

const head = 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n';

// The same lists the differential test proves against a real kube-apiserver.
describe('acceptance, as kube-apiserver decides it', () => {
  it.each(REFUSED_POLICIES.map((p) => [p.name, p] as const))('refuses: %s', (_name, policy) => {
    const loaded = loadPolicy(policy.text);
    expect(loaded.policy).toBeUndefined();
    expect(loaded.errors.map((e) => e.path)).toContain(policy.path);
    for (const e of loaded.errors) expect(e.message.length).toBeGreaterThan(5);
  });

  it.each(ACCEPTED_POLICIES.map((p) => [p.name, p] as const))('accepts: %s', (_name, policy) => {
    const loaded = loadPolicy(policy.text);
    expect(loaded.errors).toEqual([]);
    expect(loaded.policy).toBeDefined();
  });
});

describe('problems carry path, line and a fix', () => {
  it('reports every refusal at once, in file order, with lines and hints', () => {
    const text = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["requestreceived"]
rules:
  - level: Verbose
  - level: Metadata
    resources:
      - group: "apps/v1"
        resources: ["deployments"]
    nonResourceURLs: ["healthz"]
`;
    const { errors, policy } = loadPolicy(text);
    expect(policy).toBeUndefined();
    expect(errors.map((e) => [e.path, e.line])).toEqual([
      ['omitStages[0]', 3],
      ['rules[0].level', 5],
      ['rules[1].resources[0].group', 8],
      ['rules[1].nonResourceURLs', 10],
      ['rules[1].nonResourceURLs[0]', 10],
    ]);
    expect(errors[0]!.hint).toMatch(/RequestReceived/);
    expect(errors[2]!.hint).toMatch(/"apps"/);
  });

  it('explains a value YAML read as another type', () => {
    const { errors } = loadPolicy(`${head}  - level: Metadata\n    namespaces: [2024]\n    users: [no]\n`);
    expect(errors.map((e) => e.path)).toEqual(['rules[0].namespaces[0]', 'rules[0].users[0]']);
    expect(errors[0]!.hint).toMatch(/quote it/);
    expect(errors[1]!.message).toMatch(/boolean/);
  });

  it('a string where a list belongs suggests the list', () => {
    const { errors } = loadPolicy(`${head}  - level: Metadata\n    verbs: get\n`);
    expect(errors[0]).toMatchObject({ path: 'rules[0].verbs', hint: 'write a list: ["get"]' });
  });

  it('does not report "no rules" twice when rules is not a list', () => {
    const { errors } = loadPolicy(`apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: {level: Metadata}\n`);
    expect(errors.map((e) => e.path)).toEqual(['rules']);
  });
});

describe('decoding as the API server does', () => {
  it('keeps the last of duplicated keys and warns', () => {
    const loaded = loadPolicy(`${head}  - level: None\n    level: Request\n`);
    expect(loaded.policy?.rules[0]?.level).toBe('Request');
    expect(loaded.warnings[0]).toMatchObject({ line: 5, message: expect.stringMatching(/duplicate key/) });
  });

  it('ignores unknown fields with a warning that suggests the right one', () => {
    const loaded = loadPolicy(`${head}  - level: Request\n    Verbs: ["get"]\n    resource: []\n`);
    expect(loaded.policy?.rules[0]?.verbs).toEqual([]);
    expect(loaded.warnings.map((w) => [w.path, w.hint])).toEqual([
      ['rules[0].Verbs', 'did you mean "verbs"? (field names are case-sensitive)'],
      ['rules[0].resource', 'did you mean "resources"? (field names are case-sensitive)'],
    ]);
  });

  it('reads null as empty, as Go does', () => {
    const loaded = loadPolicy(`${head}  - level: Metadata\n    users: [~]\n    verbs: ~\n`);
    expect(loaded.policy?.rules[0]).toMatchObject({ users: [''], verbs: [] });
  });

  it('reads a YAML 1.1 timestamp as the string the API server makes of it, with a warning', () => {
    const loaded = loadPolicy(`${head}  - level: Metadata\n    users: [2001-12-14]\n`);
    expect(loaded.policy?.rules[0]?.users).toEqual(['2001-12-14T00:00:00Z']);
    expect(loaded.warnings[0]?.message).toMatch(/timestamp/);
  });

  it('reads only the first YAML document, with a warning', () => {
    const loaded = loadPolicy(`${head}  - level: Metadata\n---\nkind: Other\n`);
    expect(loaded.policy?.rules).toHaveLength(1);
    expect(loaded.warnings[0]?.message).toMatch(/2 YAML documents/);
  });

  it('takes JSON and parsed objects', () => {
    expect(loadPolicy('{"apiVersion":"audit.k8s.io/v1","kind":"Policy","rules":[{"level":"None"}]}').policy?.rules[0]?.level).toBe('None');
    const fromObject = loadPolicyObject({ apiVersion: 'audit.k8s.io/v1', kind: 'Policy', rules: [{ level: 'Loud' }] });
    expect(fromObject.errors).toEqual([expect.objectContaining({ path: 'rules[0].level', message: '"Loud" is not a level' })]);
    expect(fromObject.errors[0]!.line).toBeUndefined();
  });

  it('refuses an empty file and a non-mapping', () => {
    expect(loadPolicy('').errors[0]?.message).toBe('the file is empty');
    expect(loadPolicy('- a\n').errors[0]?.message).toMatch(/expected a mapping/);
  });
});

describe('warnings for what is accepted but cannot be meant', () => {
  const warn = (rules: string) => loadPolicy(`${head}${rules}`).warnings.map((w) => `${w.path}: ${w.message} | ${w.hint ?? ''}`);

  it('resource names that match nothing', () => {
    const w = warn('  - level: Request\n    resources: [{ group: "", resources: ["Secrets", "pod", "deployments", "*/*", "pods/exec/x", "roles"] }]\n');
    expect(w).toEqual([
      expect.stringMatching(/resources\[0\]: "Secrets" can never match.*\| write "secrets"/),
      expect.stringMatching(/resources\[1\]: "pod" is not a resource of group "".*\| write "pods"/),
      expect.stringMatching(/resources\[2\]: "deployments" is not a resource.*\| deployments is in group "apps"/),
      expect.stringMatching(/resources\[3\]: "\*\/\*" matches nothing/),
      expect.stringMatching(/resources\[4\]: "pods\/exec\/x" can never match/),
      expect.stringMatching(/resources\[5\]: "roles" is not a resource.*"rbac.authorization.k8s.io"/),
    ]);
  });

  it('stays quiet about custom resources and valid forms', () => {
    expect(warn('  - level: Request\n    resources: [{ group: "example.com", resources: ["widgets", "widgets/scale"] }, { group: "", resources: ["pods/*", "*/exec", "*", "pods/log"] }]\n')).toEqual([]);
  });

  it('"*" where there is no wildcard', () => {
    const w = warn('  - level: Request\n    verbs: ["*"]\n    users: ["*"]\n    namespaces: ["*"]\n  - level: Metadata\n');
    expect(w).toHaveLength(3);
    expect(w[0]).toMatch(/verbs\[0\]: verbs has no wildcard/);
  });

  it('verbs no request carries', () => {
    const w = warn('  - level: Request\n    verbs: ["GET", "exec", "read"]\n');
    expect(w).toEqual([
      expect.stringMatching(/"GET" .*\| write "get"/),
      expect.stringMatching(/"exec" .*\| exec is not a verb: match resources: \["pods\/exec"\]/),
      expect.stringMatching(/"read" .*\| known verbs/),
    ]);
  });

  it('rules behind a catch-all', () => {
    const w = warn('  - level: Metadata\n  - level: RequestResponse\n    resources: [{ group: "rbac.authorization.k8s.io" }]\n');
    expect(w).toEqual([expect.stringMatching(/^rules\[1\]: rules\[1\] and every rule after it can never match.*\| move rules\[0\]/)]);
  });

  it('group "*" needs Kubernetes 1.36', () => {
    expect(warn('  - level: Request\n    resources: [{ group: "*" }]\n')).toEqual([expect.stringMatching(/1\.36/)]);
  });
});
