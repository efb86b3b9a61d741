// A create that the REAL kube-apiserver refuses must fail fast with the API
// server's own message and undo itself: no cluster dir, no live processes.

import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EmbeddedProvider } from '../../src/server/cluster/embedded-provider.ts';
import { clusterPaths, readPids, type PidEntry } from '../../src/server/cluster/kwokctl.ts';
import { processState } from '../../src/server/cluster/runtime.ts';
import { ClusterError } from '../../src/server/cluster/types.ts';

let workDir: string;
let provider: EmbeddedProvider;
const name = `itf-${randomBytes(3).toString('hex')}`;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'irlab-itf-'));
  provider = new EmbeddedProvider({ workDir });
  const available = await provider.available();
  if (!available.ok) throw new Error(`embedded provider unavailable: ${available.problems.join('; ')}`);
});

afterAll(async () => {
  await provider.delete(name).catch(() => undefined);
  await rm(workDir, { recursive: true, force: true });
}, 60_000);

describe('embedded create refused by kube-apiserver', () => {
  it('fails within seconds with the API server message and leaves nothing behind', async () => {
    const policy = join(workDir, 'refused.yaml');
    await writeFile(policy, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: ["NotAStage"]\nrules:\n  - level: Metadata\n');

    // Record the pids the moment kwokctl writes them, to check them after cleanup.
    const seen = new Map<number, PidEntry>();
    const paths = clusterPaths(workDir, name);
    const spy = setInterval(() => {
      void readPids(paths.pidsDir).then((entries) => entries.forEach((e) => seen.set(e.pid, e)));
    }, 50);

    const started = Date.now();
    const steps: string[] = [];
    const err = await provider
      .create({ name, auditPolicyPath: policy, timeoutMs: 60_000, onStep: (s) => steps.push(s) })
      .catch((e: unknown) => e);
    clearInterval(spy);

    expect(err).toBeInstanceOf(ClusterError);
    expect((err as Error).message).toMatch(/^step "start control plane" failed: loading audit policy file: omitStages\[0\]/);
    expect((err as Error).message).toContain('"NotAStage"');
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(steps.at(-1)).toBe('start control plane');

    expect(await readdir(join(workDir, 'clusters')).catch(() => [])).toEqual([]);
    expect(await readdir(join(workDir, 'inputs')).catch(() => [])).toEqual([]);
    expect(seen.size).toBeGreaterThan(0);
    for (const p of seen.values()) expect(processState(p.pid), `${p.component} (pid ${p.pid})`).not.toBe('running');
  }, 60_000);

  it('deleting by name removes the inputs a create killed before kwokctl started left behind', async () => {
    // What a SIGKILLed server leaves after "prepare config": the reaper deletes its recorded names.
    const killed = `itk-${randomBytes(3).toString('hex')}`;
    const { inputDir } = clusterPaths(workDir, killed);
    await mkdir(inputDir, { recursive: true });
    await writeFile(join(inputDir, 'audit.yaml'), 'x');
    await expect(provider.delete(killed)).rejects.toThrow(/no embedded cluster named/);
    expect(await readdir(join(workDir, 'inputs'))).toEqual([]);
  });
});
