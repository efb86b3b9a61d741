// A learner's shell on a REAL embedded cluster, through the real sandbox (bubblewrap, the API
// relay): kubectl reaches the cluster with the kubeconfig the server hands the session, although
// the learner planted ~/.kube as a link to the cluster's own pki directory (issue 15, finding 4:
// the server used to write the kubeconfig through such a link and chown the target).
import { randomBytes } from 'node:crypto';
import { chownSync, lchownSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeOutputFrame } from '../../src/lib/terminal-protocol.ts';
import { EmbeddedProvider } from '../../src/server/cluster/embedded-provider.ts';
import type { ClusterInfo } from '../../src/server/cluster/types.ts';
import { spawnNodePty } from '../../src/server/terminal/node-pty-spawn.ts';
import { prepareSandboxHost } from '../../src/server/terminal/sandbox-host.ts';
import { TerminalManager } from '../../src/server/terminal/session-manager.ts';
import type { TerminalConnection, TerminalSession } from '../../src/server/terminal/session.ts';

let work: string;
let provider: EmbeddedProvider;
let cluster: ClusterInfo;
const name = `term-${randomBytes(3).toString('hex')}`;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'irlab-term-it-'));
  provider = new EmbeddedProvider({ workDir: join(work, 'kwok') });
  cluster = await provider.create({ name, timeoutMs: 120_000 });
}, 180_000);

afterAll(async () => {
  await provider?.delete(name).catch(() => undefined);
  await rm(work, { recursive: true, force: true });
}, 60_000);

/** Types `command` into the shell and returns what it printed until a marker, escape codes removed. */
async function sh(session: TerminalSession, command: string): Promise<string> {
  let output = '';
  const tag = randomBytes(4).toString('hex');
  const connection: TerminalConnection = {
    sendText: () => {},
    sendBinary: (frame) => (output += new TextDecoder().decode(decodeOutputFrame(frame)!.data)),
    close: () => {},
  };
  session.attach(connection, { t: 'hello', v: 1, clientId: 'cluster-test', lastOutputSeq: Number.MAX_SAFE_INTEGER, cols: 200, rows: 50 });
  session.receive(connection, JSON.stringify({ t: 'input', seq: 1, data: `${command}; echo "${tag}""-done"\r` }));
  for (let i = 0; i < 1500 && !output.includes(`${tag}-done`); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  session.detach(connection);
  // eslint-disable-next-line no-control-regex
  return output.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
}

describe('a shell on its cluster', () => {
  it('runs kubectl against the cluster, config set-context included, with ~/.kube planted as a link to its pki', async () => {
    const dataDir = join(work, 'data');
    const host = prepareSandboxHost(dataDir);
    const manager = new TerminalManager({
      dataDir,
      host,
      spawnPty: spawnNodePty,
      leaseCluster: async () => ({ name: cluster.name, kubeconfigPath: cluster.kubeconfigPath, release: async () => {} }),
    });
    const pki = join(cluster.dir, 'pki');
    const workspace = manager.workspaceDir('erin');
    mkdirSync(workspace, { recursive: true });
    symlinkSync(pki, join(workspace, '.kube'));
    if (host.identity.mode === 'setpriv') {
      chownSync(workspace, host.identity.uid, host.identity.gid);
      lchownSync(join(workspace, '.kube'), host.identity.uid, host.identity.gid);
    }
    const before = { dir: statSync(pki), files: readdirSync(pki).sort(), key: readFileSync(join(pki, 'ca.key'), 'utf8') };
    try {
      const erin = await manager.open('erin');
      const out = await sh(erin, 'kubectl get ns -o name; kubectl config set-context --current --namespace=kube-system >/dev/null && kubectl get sa default -o name; echo "kc=$KUBECONFIG"');
      expect(out).toMatch(/^namespace\/default$/m);
      expect(out).toMatch(/^serviceaccount\/default$/m);
      expect(out).toContain('kc=/run/irlab/kube/config');
    } finally {
      await manager.shutdown();
    }
    const after = statSync(pki);
    expect([after.uid, after.gid, after.mode]).toEqual([before.dir.uid, before.dir.gid, before.dir.mode]);
    expect(readdirSync(pki).sort()).toEqual(before.files);
    expect(readFileSync(join(pki, 'ca.key'), 'utf8')).toBe(before.key);
  }, 60_000);
});
