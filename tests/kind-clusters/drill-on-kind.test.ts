// The node-escape drill on a REAL kind node, through the drill runtime the server uses: seeding
// arms the learner boundary before anyone holds a credential; each participant gets a certificate
// of their own (audited as themselves) in the responder and learner groups, so the boundary that
// holds a learner holds them (no privileged pod, no exec into the node agent); with that
// credential alone the team isolates the node and revokes what its credential reached, and the
// drill's checks see it.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { binDir, readEngineVersions } from '../../src/server/cluster/binaries.ts';
import { KindProvider } from '../../src/server/cluster/kind-provider.ts';
import { LEARNER_GROUP } from '../../src/server/cluster/learner-policy.ts';
import type { LoadedDrill } from '../../src/server/drill/load.ts';
import { loadDrills } from '../../src/server/drill/project-drills.ts';
import { RESPONDER_GROUP, responderUsername } from '../../src/server/drill/responders.ts';
import { liveRuntime, type DrillRuntime } from '../../src/server/drill/runtime.ts';
import { freshClusters, type ClusterSource } from '../../src/server/lab/cluster-source.ts';
import { runSolution } from '../../src/server/lab/solution.ts';

let work: string;
let provider: KindProvider;
let source: ClusterSource;
let runtime: DrillRuntime;
let drill: LoadedDrill;
let cluster = '';
let kubeconfig = '';
const participant = { id: 'p1kind', name: 'Ada Lovelace' };

async function kubectl(config: string, ...args: string[]): Promise<{ code: number; out: string }> {
  return promisify(execFile)(path.join(binDir(readEngineVersions()), 'kubectl'), ['--kubeconfig', config, ...args], { timeout: 60_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, out: stdout + stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: typeof error.code === 'number' ? error.code : 1, out: `${error.stdout ?? ''}${error.stderr ?? ''}` }),
  );
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'irlab-kind-drill-'));
  await mkdir(path.join(work, 'empty'));
  provider = new KindProvider({ stateDir: path.join(work, 'kind') });
  source = freshClusters(provider);
  runtime = liveRuntime({ clusters: source, answerKeys: path.join(work, 'keys'), stateDir: path.join(work, 'drills'), emptyWorkspace: path.join(work, 'empty') });
  const found = (await loadDrills(process.cwd())).find((d) => d.slug === 'node-escape');
  if (!found) throw new Error('scenarios/node-escape/drill.yaml did not load');
  drill = found;
  const progress: string[] = [];
  cluster = await runtime.prepare(drill, 'kind-drill', (message) => progress.push(message));
  expect(progress).toContain('arming the learner boundary');
  kubeconfig = await runtime.participantKubeconfig(cluster, 'drill-kind', participant);
}, 600_000);

afterAll(async () => {
  if (cluster) await source.release(cluster);
  await rm(work, { recursive: true, force: true });
}, 180_000);

describe('the node-escape drill on kind', () => {
  it("gives a participant a certificate of their own, in the responder and learner groups", async () => {
    const config = parse(await readFile(kubeconfig, 'utf8')) as { users: Array<{ user: Record<string, string> }> };
    expect(config.users).toHaveLength(1);
    const certificate = new X509Certificate(Buffer.from(config.users[0]!.user['client-certificate-data']!, 'base64'));
    expect(certificate.subject).toContain(`CN=${responderUsername(participant)}`);
    const whoami = await kubectl(kubeconfig, 'auth', 'whoami', '-o', 'json');
    expect(whoami.code, whoami.out).toBe(0);
    const review = JSON.parse(whoami.out) as { status: { userInfo: { username: string; groups: string[] } } };
    expect(review.status.userInfo.username).toBe(responderUsername(participant));
    expect(review.status.userInfo.groups).toEqual(expect.arrayContaining([RESPONDER_GROUP, LEARNER_GROUP]));
    // Reopening the terminal reuses the file: one certificate per participant.
    expect(await runtime.participantKubeconfig(cluster, 'drill-kind', participant)).toBe(kubeconfig);
  });

  it('holds a participant to the learner boundary: no pod on the node, no exec into the node agent', async () => {
    const privileged = await kubectl(kubeconfig, 'run', 'escape', '--image=irlab.invalid/x', '--dry-run=server', '--privileged', '-n', 'default');
    expect(privileged.code).not.toBe(0);
    expect(privileged.out).toContain("irlab: a learner's pods stay off the node");
    const key = await runtime.answerKey(cluster);
    const exec = await kubectl(kubeconfig, 'exec', '-n', key.compromisedPod.namespace, key.compromisedPod.name, '--', 'true');
    expect(exec.code).not.toBe(0);
    expect(exec.out).toMatch(/irlab: a learner does not exec/);
  });

  it("isolates the node and revokes what its credential reached with the participant's credential alone; the drill's checks pass", async () => {
    const key = await runtime.answerKey(cluster);
    for (const stepId of ['isolate', 'revoke']) {
      const step = drill.lab.lab.steps.find((s) => s.id === stepId)!;
      const before = await runtime.evaluate(cluster, drill, stepId, [path.join(work, 'empty')], {}, AbortSignal.timeout(120_000));
      expect(before.passed, `${stepId} passes before anyone acted`).toBe(false);
      const workspace = path.join(work, `ws-${stepId}`);
      await mkdir(workspace, { recursive: true });
      const runs = await runSolution(step.solution, key, { workspace, kubeconfig, binDir: binDir(readEngineVersions()) });
      const failed = runs.find((r) => r.exitCode !== 0);
      expect(failed, failed ? `${failed.command}\n${failed.output}` : '').toBeUndefined();
      const after = await runtime.evaluate(cluster, drill, stepId, [workspace], {}, AbortSignal.timeout(120_000));
      expect(after.passed, JSON.stringify(after)).toBe(true);
    }
    const events = await runtime.auditEvents(cluster);
    const cordon = events.find((e) => e.user.username === responderUsername(participant) && e.objectRef?.resource === 'nodes' && e.verb === 'patch');
    expect(cordon, 'the cordon is audited as the participant').toBeDefined();
  }, 400_000);
});
