// The labs on REAL kind clusters: L18's incident seeded as real containers (images from the node,
// the compromised pod's files in its container, its log behind kubectl logs), the quarantine check
// proving the cut by real connections (the allow-frontend trap shows as a connection that gets in),
// and `irlab test --all --provider kind`, which runs every lab's reference solution on kind.
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { binDir, readEngineVersions } from '../../src/server/cluster/binaries.ts';
import type { KindProvider } from '../../src/server/cluster/kind-provider.ts';
import { loadKubeConfig } from '../../src/server/cluster/kube.ts';
import type { ClusterInfo } from '../../src/server/cluster/types.ts';
import { quarantineCheck } from '../../src/server/lab/checks/quarantine.ts';
import { testCommand } from '../../src/server/lab/cli.ts';
import type { AnswerKey } from '../../src/server/scenarios/answer-key.ts';
import { QUARANTINE_POLICY } from '../e2e/l18-commands.ts';
import { seededKindCluster, type SeededKind } from './seeded-cluster.ts';

const run = promisify(execFile);
const kubectl = join(binDir(readEngineVersions()), 'kubectl');
const root = process.cwd();
let cluster: SeededKind | undefined;
let stateDir: string;
let provider: KindProvider;
let info: ClusterInfo;
let key: AnswerKey;

const k = async (...args: string[]): Promise<string> => (await run(kubectl, ['--kubeconfig', info.kubeconfigPath, ...args], { timeout: 60_000 })).stdout;

async function contain(): Promise<Map<string, { passed: boolean; message: string }>> {
  const result = await quarantineCheck.run(
    { cluster: info, provider, kubeConfig: loadKubeConfig(info.kubeconfigPath), workspace: stateDir, answerKey: key, answers: {}, questions: [], auditEvents: async () => [] },
    AbortSignal.timeout(120_000),
  );
  return new Map(result.criteria.map((c) => [c.id, c]));
}

beforeAll(async () => {
  cluster = await seededKindCluster('kind-lab', 'compromised-web-app', 'kind-labs');
  ({ stateDir, provider, info, key } = cluster);
}, 600_000);

afterAll(() => cluster?.remove(), 180_000);

describe('L18 on a real kind cluster', () => {
  it('runs the world as real containers, with the pod\'s own files and log', async () => {
    const pod = key.compromisedPod.name;
    // PID 1 of a real container: the stand-in's script, not a simulated tree.
    expect(await k('exec', '-n', 'production', pod, '--', 'cat', '/proc/1/cmdline')).toContain('irlab-workload');
    for (const file of key.files) {
      const sum = (await k('exec', '-n', 'production', pod, '--', 'sha256sum', file.path)).split(' ')[0];
      expect(sum, file.path).toBe(file.sha256);
    }
    const logs = await k('logs', '-n', 'production', pod, '--all-containers');
    expect(logs.trim().split('\n')).toHaveLength(key.logLines);
    const images = await k('get', 'pods', '-n', 'production', '-o', 'jsonpath={range .items[*]}{.spec.containers[0].image} {.status.phase}{"\\n"}{end}');
    expect(images).toMatch(/registry\.shop\.internal\/web-app:2\.14\.1 Running/);
  });

  it('proves the cut by real connections: open, the allow-frontend trap, then cut', async () => {
    const untouched = await contain();
    expect(untouched.get('cut-proven')).toMatchObject({ passed: false, message: expect.stringMatching(/real connection from a pod/) });

    // The trap: quarantined and denied, but still tier=frontend, which allow-frontend admits on 8080.
    await k('label', 'pod', '-n', 'production', key.compromisedPod.name, 'quarantine=true');
    // The lesson's quarantine policy, with the engine's kubectl on this cluster.
    await run('bash', ['-c', QUARANTINE_POLICY], { timeout: 60_000, env: { ...process.env, PATH: `${dirname(kubectl)}:${process.env.PATH}`, KUBECONFIG: info.kubeconfigPath } });
    const trapped = await contain();
    expect(trapped.get('isolated')?.passed).toBe(false);
    expect(trapped.get('cut-proven')).toMatchObject({ passed: false, message: expect.stringMatching(/reached the compromised pod on port 8080/) });
    expect(trapped.get('cut-proven')?.message).not.toContain(key.compromisedPod.name);

    await k('label', 'pod', '-n', 'production', key.compromisedPod.name, 'tier-');
    const cut = await contain();
    expect([...cut.values()].filter((c) => !c.passed)).toEqual([]);
    expect(cut.get('cut-proven')?.message).toMatch(/tried on the wire: \d+ pods? that reach others could not reach the compromised pod, and it reached none of \d+ pods/);
  });
});

describe('why a learner never gets a kind cluster (select-provider.ts)', () => {
  it('a privileged pod, which the cluster admin may create, sees this machine\'s own disks', async () => {
    await run('bash', ['-c', `"${kubectl}" --kubeconfig ${info.kubeconfigPath} apply -f - <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: node-reach, namespace: default}
spec:
  hostPID: true
  containers: [{name: x, image: "registry.shop.internal/web-app:2.14.1", imagePullPolicy: IfNotPresent, securityContext: {privileged: true}}]
YAML`], { timeout: 60_000 });
    await k('wait', '--for=condition=Ready', 'pod/node-reach', '--timeout=120s');
    const inPod = (await k('exec', 'node-reach', '--', 'ls', '/dev')).split('\n');
    const hostDisks = (await readdir('/sys/block')).filter((d) => !/^(loop|ram|zram|dm-)/.test(d));
    expect(hostDisks.length).toBeGreaterThan(0);
    expect(hostDisks.filter((d) => inPod.includes(d))).toEqual(hostDisks);
    await k('delete', 'pod', 'node-reach', '--wait=false');
  });
});

describe('irlab test --all --provider kind', () => {
  it('proves every lab on kind: untouched fails, each step passes after its solution, reset gives a fresh cluster', async () => {
    let out = '';
    let err = '';
    const code = await testCommand(['--all', '--provider', 'kind'], { out: (t) => void (out += t), err: (t) => void (err += t), root });
    expect({ code, failures: out.split('\n').filter((l) => l.startsWith('FAIL')), err: err.slice(-2000) }).toEqual({ code: 0, failures: [], err: expect.any(String) });
    expect(out).toMatch(/lab l18: proven/);
    expect(out).toMatch(/lab leaked-ci-token: proven/);
    expect(out).toMatch(/lab node-escape: proven/);
  }, 1_500_000);
});
