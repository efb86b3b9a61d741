// Evidence judged as real outputs. The fixtures are what `kubectl get pod -o yaml` and
// `kubectl describe pod` printed for the compromised pod of a real L18 run (irlab test l18).
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AnswerKey } from '../../scenarios/answer-key.ts';
import type { AuditEvent } from '../../cluster/types.ts';
import { sha256 } from '../workspace-files.ts';
import { criLines, judgeEvidence, podFactsFromKey } from './evidence.ts';
import type { PodFacts } from './evidence-artefacts.ts';

const fixture = (name: string) => readFile(path.join(import.meta.dirname, 'fixtures', name), 'utf8');
const POD = 'web-app-768646c476-k8wss';
const UID = '1a881646-02dd-40b2-a3a8-53171d611331';

const key = {
  compromisedPod: {
    name: POD, namespace: 'production', uid: UID, ip: '10.0.0.2', serviceAccount: 'web-app', containers: ['web'],
    images: ['registry.shop.internal/web-app:2.14.1'], labels: { app: 'web-app' }, knownGoodImage: 'registry.shop.internal/web-app:2.14.2',
  },
  files: [{ path: '/tmp/crontab', sha256: sha256('* * * * * x\n'), bytes: 12 }, { path: '/etc/hostname', sha256: 'x', bytes: 1 }],
} as unknown as AnswerKey;
const live: PodFacts = { ...podFactsFromKey(key), nodeName: 'kwok-node-0', creationTimestamp: '2026-12-07T04:02:49Z', resourceVersion: '431' };
const lines = ['web-app 2.14.1 listening on :8080', '203.0.113.204 GET /api/render?template=hello 200 3.2ms'];

let workspace: string;
let manifest: string;
let describeOut: string;
beforeEach(async () => {
  workspace = await mkdtemp(path.join(tmpdir(), 'irlab-ws-'));
  manifest = await fixture('pod-evidence.yaml');
  describeOut = await fixture('pod-describe.txt');
});
afterEach(async () => rm(workspace, { recursive: true, force: true }));

async function save(files: { manifest?: string; describe?: string; logs?: string }) {
  await writeFile(path.join(workspace, 'pod-evidence.yaml'), files.manifest ?? manifest);
  await writeFile(path.join(workspace, 'pod-logs.txt'), files.logs ?? `${lines.join('\n')}\n`);
  await writeFile(path.join(workspace, 'pod-describe.txt'), files.describe ?? describeOut);
  await mkdir(path.join(workspace, 'evidence/tmp'), { recursive: true });
  await writeFile(path.join(workspace, 'evidence/tmp/crontab'), '* * * * * x\n');
}
const criterion = async (id: string, pod: PodFacts = live) => (await judgeEvidence(workspace, key, lines, [], pod)).find((c) => c.id === id)!;

describe('evidence: the real outputs pass', () => {
  it('accepts kubectl\'s own output, checked against the live pod and against the key once the pod is gone', async () => {
    await save({});
    expect((await judgeEvidence(workspace, key, lines, [], live)).filter((c) => !c.passed)).toEqual([]);
    expect((await judgeEvidence(workspace, key, lines, [], podFactsFromKey(key))).filter((c) => !c.passed)).toEqual([]);
  });
  it('accepts -o json and a List holding the pod', async () => {
    const { parse } = await import('yaml');
    const pod = parse(manifest) as object;
    await save({ manifest: JSON.stringify(pod, null, 2) });
    expect(await criterion('manifest')).toMatchObject({ passed: true });
    await save({ manifest: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [pod] }) });
    expect(await criterion('manifest')).toMatchObject({ passed: true });
  });
});

describe('evidence: forgeries and wrong files fail, and never name the pod', () => {
  const expectNoPod = (message: string) => {
    expect(message).not.toContain(POD);
    expect(message).not.toContain(UID);
    expect(message).not.toContain('10.0.0.2');
  };
  it.each([
    ['manifest', { manifest: `kind: Pod\nmetadata:\n  uid: ${UID}\n` }],
    ['manifest', { manifest: `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${POD}\n  namespace: production\n  uid: ${UID}\n` }],
    ['manifest', { manifest: 'not: [yaml' }],
    ['describe', { describe: `Name: ${POD}\nNamespace: production\n` }],
    ['describe', { describe: `Name:         ${POD}\nNamespace:    production\nService Account:  web-app\nNode: kwok-node-0\n` }],
    ['logs', { logs: `${lines[0]}\n` }],
  ] as const)('%s: %j', async (id, files) => {
    await save(files);
    const c = await criterion(id);
    expect(c).toMatchObject({ id, passed: false });
    expectNoPod(c.message);
  });

  it('fails another pod\'s real output without naming the compromised one', async () => {
    const other = 'web-app-768646c476-zzzzz';
    await save({
      manifest: manifest.replaceAll(POD, other).replace(UID, '00000000-0000-0000-0000-000000000000').replaceAll('10.0.0.2', '10.0.0.9'),
      describe: describeOut.replaceAll(POD, other).replaceAll('10.0.0.2', '10.0.0.9'),
    });
    for (const id of ['manifest', 'describe']) {
      const c = await criterion(id);
      expect(c.passed).toBe(false);
      expect(c.message).toContain('not the compromised pod\'s');
      expectNoPod(c.message);
    }
  });

  it('fails an edited manifest or describe, naming the fields', async () => {
    await save({ manifest: manifest.replace('nodeName: kwok-node-0', 'nodeName: elsewhere'), describe: describeOut.replace('    Image:          registry.shop.internal/web-app:2.14.1', '    Image:          nginx') });
    expect((await criterion('manifest')).message).toContain('spec.nodeName');
    expect((await criterion('describe')).message).toContain('Image');
  });

  it('fails a manifest newer than the live object (made up, not saved)', async () => {
    await save({ manifest: manifest.replace('resourceVersion: "426"', 'resourceVersion: "9999"') });
    expect(await criterion('manifest')).toMatchObject({ passed: false, message: expect.stringContaining('metadata.resourceVersion') as unknown as string });
  });

  it('fails a /tmp copy that differs, without counts or the pod name', async () => {
    await save({});
    await writeFile(path.join(workspace, 'evidence/tmp/crontab'), 'edited\n');
    const c = await criterion('filesystem');
    expect(c.passed).toBe(false);
    expect(c.message).not.toMatch(/\d+ of/);
    expectNoPod(c.message);
  });

  it('rejects a symlink that leaves the workspace', async () => {
    await save({});
    await rm(path.join(workspace, 'pod-logs.txt'));
    await symlink('/etc/passwd', path.join(workspace, 'pod-logs.txt'));
    expect((await criterion('logs')).message).toContain('symbolic link, which the server does not follow');
  });

  it('fails evidence taken after the pod was deleted', async () => {
    const event = (verb: string, at: string, subresource?: string) =>
      ({ verb, requestReceivedTimestamp: at, objectRef: { resource: 'pods', namespace: 'production', name: POD, ...(subresource ? { subresource } : {}) } }) as AuditEvent;
    const criteria = await judgeEvidence(workspace, key, lines, [event('delete', '2026-11-27T19:00:00Z'), event('get', '2026-11-27T19:01:00Z', 'log')]);
    expect(criteria.find((c) => c.id === 'before-deletion')).toMatchObject({ passed: false });
    expect(criteria.find((c) => c.id === 'manifest')?.message).toContain('missing');
  });

  it('strips the CRI prefix from log lines', () => {
    expect(criLines('2026-11-27T18:44:35.704925623Z stdout F hello world\n2026-11-27T18:44:36Z stderr F WARN x\n')).toEqual(['hello world', 'WARN x']);
  });
});
