import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_POLICY } from '../../../tests/integration/audit-policy-cases.ts';
import { policyCommand } from './cli.ts';

const run = promisify(execFile);
let dir: string;
const files: Record<string, string> = {
  seed: SEED_POLICY,
  weak: 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Metadata\n',
  refused: 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Metadata\n    nonResourceURLs: ["healthz"]\n  - level: metadata\n',
  warned: 'apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n  - level: Request\n    verbs: ["*"]\n  - level: Metadata\n',
};
const file = (name: string) => path.join(dir, `${name}.yaml`);

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await policyCommand(args, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'irlab-policy-cli-'));
  for (const [name, text] of Object.entries(files)) await writeFile(file(name), text);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('irlab policy check', () => {
  it('prints the table and passes the lesson policy', async () => {
    const { code, out } = await cli(['check', file('seed')]);
    expect(code).toBe(0);
    expect(out).toMatch(/^request\s+as\s+level\s+needs\s+verdict\s+rule$/m);
    expect(out).toMatch(/^get secrets\/db-credentials in production\s+SA\s+Request\s+>= Metadata\s+ok\s+rules\[0\] \(line 6\)$/m);
    expect(out).toMatch(/^create a clusterrolebinding\s+SA\s+RequestResponse\s+RequestResponse\s+ok\s+rules\[1\] \(line 11\)$/m);
    expect(out).toMatch(/^GET \/healthz\s+SA\s+Metadata\s+any\s+-\s+rules\[4\] \(line 26\)$/m);
    expect(out).toMatch(/WARNING: secret values end up in the audit log/);
    expect(out).toMatch(/9 of 9 criteria passed \(score 1\): PASS$/);
  });

  it('exits 1 and says what is missing when a criterion fails', async () => {
    const { code, out } = await cli(['check', file('weak')]);
    expect(code).toBe(1);
    expect(out).toMatch(/^get secrets\/db-credentials in production\s+SA\s+Metadata\s+>= Metadata\s+ok\s+rules\[0\] \(line 4\)$/m);
    expect(out).toMatch(/^FAIL rbac-changes-at-request-response: 7 of 7 RBAC changes need RequestResponse/m);
    expect(out).toMatch(/^FAIL request-received-omitted: /m);
    expect(out).toMatch(/6 of 9 criteria passed \(score 0\.667\): FAIL$/);
  });

  it('refuses a policy the API server would refuse, with file, line, path and fix', async () => {
    const { code, out, err } = await cli(['check', file('refused')]);
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toContain('kube-apiserver would refuse this policy');
    expect(err).toContain(file('refused'));
    expect(err).toMatch(/5:\d+\s+rules\[0\]\.nonResourceURLs\[0\]: non-resource URL "healthz" must begin with "\/"/);
    expect(err).toMatch(/6:\d+\s+rules\[1\]\.level: "metadata" is not a level\n\s+fix: write "Metadata" \(levels are case-sensitive\)/);
  });

  it('shows warnings but still grades an accepted policy', async () => {
    const { code, err, out } = await cli(['check', file('warned')]);
    expect(err).toMatch(/1 warning \(accepted by the API server, but probably not what you meant\)/);
    expect(err).toMatch(/rules\[0\]\.verbs\[0\]: verbs has no wildcard/);
    expect(out).toMatch(/criteria passed/);
    expect(code).toBe(1);
  });

  it('--json gives the CheckResult, the problems and the table', async () => {
    const { code, out } = await cli(['check', file('seed'), '--json']);
    expect(code).toBe(0);
    const json = JSON.parse(out);
    expect(json).toMatchObject({ passed: true, score: 1, errors: [], warnings: [] });
    expect(json.criteria).toHaveLength(9);
    expect(json.table[0]).toEqual({
      id: 'get-secret',
      request: 'get secrets/db-credentials in production',
      user: 'system:serviceaccount:default:default',
      level: 'Request',
      rule: 0,
      omitStages: ['RequestReceived'],
      passed: true,
    });
  });

  it('says so when the file is missing', async () => {
    const { code, err } = await cli(['check', path.join(dir, 'nope.yaml')]);
    expect(code).toBe(2);
    expect(err).toMatch(/cannot read .*nope\.yaml: no such file/);
  });
});

describe('irlab policy eval', () => {
  it('prints the level, the rule and the stages for one request', async () => {
    const { code, out } = await cli(['eval', file('seed'), '--verb', 'create', '--resource', 'pods/exec', '--namespace', 'production', '--name', 'web', '--user', 'system:serviceaccount:production:web-app']);
    expect(code).toBe(0);
    expect(out).toContain('create pods/exec "web" in namespace production, as user system:serviceaccount:production:web-app (groups: system:serviceaccounts, system:serviceaccounts:production, system:authenticated)');
    expect(out).toMatch(/^level:\s+Request$/m);
    expect(out).toMatch(/^rule:\s+rules\[2\] \(line 16\)$/m);
    expect(out).toMatch(/^omitStages:\s+RequestReceived$/m);
  });

  it('--json prints {level, rule, omitStages}', async () => {
    expect((await cli(['eval', file('seed'), '--verb', 'patch', '--resource', 'clusterrolebindings', '--api-group', 'rbac.authorization.k8s.io', '--name', 'x', '--json'])).out).toBe(
      '{"level":"RequestResponse","rule":1,"omitStages":["RequestReceived"]}',
    );
    expect((await cli(['eval', file('seed'), '--verb', 'get', '--path', '/healthz', '--json'])).out).toBe('{"level":"Metadata","rule":4,"omitStages":["RequestReceived"]}');
    const none = 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Request\n    userGroups: ["dev"]\n';
    await writeFile(file('groups'), none);
    expect((await cli(['eval', file('groups'), '--verb', 'get', '--resource', 'pods', '--json'])).out).toBe('{"level":"None","rule":null,"omitStages":[]}');
    expect((await cli(['eval', file('groups'), '--verb', 'get', '--resource', 'pods', '--user', 'bob', '--group', 'ops', '--group', 'dev', '--json'])).out).toBe(
      '{"level":"Request","rule":0,"omitStages":[]}',
    );
  });

  it('uses the namespace the API server uses for a named Namespace, and says so', async () => {
    const ns = 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: None\n    namespaces: [""]\n  - level: Metadata\n';
    await writeFile(file('ns'), ns);
    const { out } = await cli(['eval', file('ns'), '--verb', 'delete', '--resource', 'namespaces', '--name', 'production']);
    expect(out).toMatch(/^level:\s+Metadata$/m);
    expect(out).toMatch(/note: a request for namespace "production" has namespace "production"/);
  });

  it('refuses a policy the API server would refuse', async () => {
    const { code, out, err } = await cli(['eval', file('refused'), '--verb', 'get', '--resource', 'pods', '--json']);
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toMatch(/kube-apiserver would refuse this policy/);
  });

  it('explains usage mistakes', async () => {
    expect((await cli(['eval', file('seed'), '--resource', 'pods'])).err).toMatch(/--verb is required/);
    expect((await cli(['eval', file('seed'), '--verb', 'get'])).err).toMatch(/exactly one of --resource .* or --path/);
    expect((await cli(['eval', file('seed'), '--verb', 'get', '--path', 'healthz'])).err).toMatch(/starts with "\/"/);
    expect((await cli(['eval', file('seed'), '--verb', 'get', '--resource', 'pods', '--bogus'])).code).toBe(2);
    expect((await cli(['frobnicate'])).code).toBe(2);
  });
});

describe('through the irlab binary', () => {
  it('evaluates and exits with the check status', { timeout: 30_000 }, async () => {
    const bin = path.resolve('bin/irlab.mjs');
    const { stdout } = await run(process.execPath, [bin, 'policy', 'eval', file('seed'), '--verb', 'get', '--resource', 'secrets', '--namespace', 'production', '--json']);
    expect(JSON.parse(stdout)).toEqual({ level: 'Request', rule: 0, omitStages: ['RequestReceived'] });
    const failure = (await run(process.execPath, [bin, 'policy', 'check', file('weak')]).catch((e: unknown) => e)) as { code: number; stdout: string };
    expect(failure.code).toBe(1);
    expect(failure.stdout).toContain('FAIL rbac-changes-at-request-response');
  });
});
