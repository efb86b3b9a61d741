// Pods on REAL embedded clusters act like pods: `kubectl exec` (with and
// without a TTY), `kubectl cp` and `kubectl logs` work on the pod's own tree,
// written the way a scenario writes it, and nothing of the host (nor of
// another cluster) can be read or written from inside.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import * as pty from 'node-pty';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readAuditLog } from '../../src/server/cluster/audit-log.ts';
import { EmbeddedProvider } from '../../src/server/cluster/embedded-provider.ts';
import { PodRuntime } from '../../src/server/cluster/pod-runtime.ts';
import { waitUntil } from '../../src/server/cluster/runtime.ts';
import type { ClusterInfo } from '../../src/server/cluster/types.ts';
import { podDir, writeContainerLog } from '../../src/server/scenarios/pod-evidence.ts';

const run = promisify(execFile);
// Set in this process, so inherited by kwokctl and every component: it must never show up in a pod.
const HOST_MARKER = `irlab-host-${randomBytes(4).toString('hex')}`;
process.env.IRLAB_TEST_HOST_MARKER = HOST_MARKER;

let work: string;
let provider: EmbeddedProvider;
interface Lab {
  cluster: ClusterInfo;
  runtime: PodRuntime;
}
const labs: Lab[] = [];
let hostSecret: string;

async function kubectl(lab: Lab, args: string[], timeout = 30_000) {
  return run(join(provider.binDir, 'kubectl'), ['--kubeconfig', lab.cluster.kubeconfigPath, ...args], { timeout });
}

/** `sh -c` in the pod; stdout, or the error's stdout+stderr when the command fails. */
async function sh(lab: Lab, pod: string, script: string, namespace = 'default'): Promise<string> {
  try {
    return (await kubectl(lab, ['exec', '-n', namespace, pod, '--', 'sh', '-c', script])).stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}`;
  }
}

async function runPod(lab: Lab, name: string, namespace = 'default') {
  await kubectl(lab, ['run', name, '-n', namespace, '--image=registry.shop.internal/web-app:2.14.1', '--env=APP_MODE=production']);
  await lab.runtime.ready(namespace, name);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'irlab-pods-it-'));
  hostSecret = join(work, 'host-secret.txt');
  await writeFile(hostSecret, `${HOST_MARKER}-file\n`);
  provider = new EmbeddedProvider({ workDir: join(work, 'kwok') });
  for (const tag of ['a', 'b']) {
    const cluster = await provider.create({ name: `pods-${tag}-${randomBytes(2).toString('hex')}` });
    const lab = { cluster, runtime: await PodRuntime.start(cluster) };
    labs.push(lab);
    await runPod(lab, 'web');
    // What a scenario leaves in the compromised pod: files in /tmp and a container log.
    const { rootfs, logs } = podDir(cluster.dir, 'default', 'web');
    await writeFile(join(rootfs, 'tmp', `evidence-${tag}.txt`), `only in cluster ${tag}\n`);
    await mkdir(join(rootfs, 'tmp', 'loot'), { recursive: true });
    await writeFile(join(rootfs, 'tmp', 'loot', 'ci.token'), 'eyJhbGciOi.payload.sig\n');
    const template = join(work, `log-${tag}.txt`);
    await writeFile(template, 'GET /healthz 200\nWARN suspicious upload from {{ ip }}\n');
    await writeContainerLog(template, join(logs, 'web.log'), { ip: '203.0.113.9' }, new Date(), () => 0.5);
  }
}, 240_000);

afterAll(async () => {
  for (const lab of labs) {
    await lab.runtime.stop();
    await provider.delete(lab.cluster.name).catch(() => {});
  }
  await rm(work, { recursive: true, force: true });
}, 120_000);

describe('a pod on an embedded cluster', () => {
  it('runs exec in its own tree: hostname, /tmp, its own environment', async () => {
    const [a] = labs;
    expect((await kubectl(a!, ['exec', 'web', '--', 'cat', '/etc/hostname'])).stdout.trim()).toBe('web');
    expect((await kubectl(a!, ['exec', 'web', '--', 'ls', '/tmp'])).stdout.split(/\s+/)).toEqual(expect.arrayContaining(['evidence-a.txt', 'loot']));
    // An absolute cmd[0] resolves in the pod too, never to the host's binary.
    expect((await kubectl(a!, ['exec', 'web', '--', '/bin/cat', '/tmp/evidence-a.txt'])).stdout).toBe('only in cluster a\n');
    const env = (await kubectl(a!, ['exec', 'web', '--', '/usr/bin/env'])).stdout;
    expect(env).toContain('APP_MODE=production');
    expect(env).toContain('HOSTNAME=web');
    expect(env).not.toContain(HOST_MARKER);
  });

  it('serves its container log to kubectl logs', async () => {
    const out = (await kubectl(labs[0]!, ['logs', 'web'])).stdout;
    expect(out).toBe('GET /healthz 200\nWARN suspicious upload from 203.0.113.9\n');
  });

  it('copies its /tmp out with kubectl cp (tar inside the pod)', async () => {
    const dest = join(work, 'copied');
    await kubectl(labs[0]!, ['cp', 'default/web:/tmp', dest]);
    expect(await readFile(join(dest, 'evidence-a.txt'), 'utf8')).toBe('only in cluster a\n');
    expect(await readFile(join(dest, 'loot', 'ci.token'), 'utf8')).toBe('eyJhbGciOi.payload.sig\n');
  });

  it('gives kubectl exec -it a terminal: prompt, job control, window size, exit', async () => {
    const term = pty.spawn(join(provider.binDir, 'kubectl'), ['--kubeconfig', labs[0]!.cluster.kubeconfigPath, 'exec', '-it', 'web', '--', 'sh'], {
      cols: 101,
      rows: 33,
      env: { ...process.env, TERM: 'xterm' } as Record<string, string>,
    });
    let screen = '';
    term.onData((d) => (screen += d));
    const exited = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)));
    const waitFor = async (text: string) => {
      const deadline = Date.now() + 20_000;
      while (!screen.includes(text)) {
        if (Date.now() > deadline) throw new Error(`no ${JSON.stringify(text)} on the terminal; it shows:\n${screen}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await waitFor('#');
    term.write('echo answer-$((6*7)); stty size; tty; test -t 0 && echo is-a-tty\r');
    await waitFor('answer-42');
    await waitFor('is-a-tty');
    expect(screen).toContain('33 101');
    term.write('exit\r');
    expect(await exited).toBe(0);
  });

  it('gives pods created later (an attacker in kube-system) a tree too, and a fresh one when recreated', async () => {
    const lab = labs[0]!;
    await runPod(lab, 'node-agent', 'kube-system');
    expect((await sh(lab, 'node-agent', 'cat /etc/hostname; ls /tmp | wc -l', 'kube-system')).split('\n')).toEqual(['node-agent', '0', '']);
    await sh(lab, 'node-agent', 'echo planted > /tmp/implant', 'kube-system');
    await kubectl(lab, ['delete', 'pod', '-n', 'kube-system', 'node-agent', '--wait=true']);
    await runPod(lab, 'node-agent', 'kube-system');
    expect(await sh(lab, 'node-agent', 'ls /tmp', 'kube-system')).toBe('');
  });
});

describe('from inside a pod', () => {
  it('sees no host process, environment, user or path', async () => {
    const lab = labs[0]!;
    const out = await sh(lab, 'web', 'cat /proc/1/environ; cat /proc/*/cmdline; ps -o pid,args; ls -a /root /home; echo; cat /proc/mounts');
    expect(out).not.toContain(HOST_MARKER);
    expect(out).not.toContain(work);
    expect(out).not.toContain('.cache');
    expect(out).not.toMatch(/kube-apiserver|etcd|kwok/);
    // Walking up never leaves the pod: /tmp/../../.. is /.
    expect(await sh(lab, 'web', `cd /tmp/../../../..; pwd; cat ../../../..${hostSecret}`)).toMatch(/^\/\n.*No such file/s);
  });

  it('cannot follow symlinks planted in the tree to the host, for reading or writing', async () => {
    const lab = labs[0]!;
    const { rootfs } = podDir(lab.cluster.dir, 'default', 'web');
    await symlink(hostSecret, join(rootfs, 'tmp', 'escape'));
    await symlink('../../../../../../../../..', join(rootfs, 'tmp', 'up'));
    const hostDir = await mkdtemp(join(work, 'host-dir-'));
    await rm(join(rootfs, 'proc'), { recursive: true });
    await symlink(hostDir, join(rootfs, 'proc'));
    const out = await sh(lab, 'web', `cat /tmp/escape; echo pwned > /tmp/escape; ls /tmp/up/; cat /tmp/up${hostSecret}; echo ok`);
    expect(out).not.toContain(HOST_MARKER);
    expect(out).toMatch(/ok\n$/);
    expect(await readFile(hostSecret, 'utf8')).toBe(`${HOST_MARKER}-file\n`);
    // The /proc symlink was replaced by a directory: nothing was mounted on, or written to, the host dir.
    expect(await readdir(hostDir)).toEqual([]);
    // A write to the tree's parent lands inside the tree.
    await sh(lab, 'web', 'touch /../../outside');
    await expect(readFile(join(rootfs, '..', 'outside'))).rejects.toThrow(/ENOENT/);
  });

  it('cannot reach the host network (the API server or etcd on loopback)', async () => {
    const lab = labs[0]!;
    const port = new URL((await readFile(lab.cluster.kubeconfigPath, 'utf8')).match(/server: (\S+)/)![1]!).port;
    const out = await sh(lab, 'web', `wget -q -T 2 -O - https://127.0.0.1:${port}/version 2>&1; echo rc=$?`);
    expect(out).toMatch(/rc=[1-9]/);
    expect(out).not.toContain('gitVersion');
  });

  it('never runs a host binary, whatever cmd[0] names', async () => {
    const lab = labs[0]!;
    // All exist on this host; in the pod they do not (or resolve to the pod's own busybox).
    for (const cmd of ['/usr/bin/python3', '/usr/local/go/bin/go', join(provider.binDir, 'kubectl'), '/usr/bin/bwrap']) {
      const result = await kubectl(lab, ['exec', 'web', '--', cmd, '--version']).then(
        (r) => r.stdout + r.stderr,
        (e: { stdout?: string; stderr?: string }) => `${e.stdout ?? ''}${e.stderr ?? ''}`,
      );
      expect(result, cmd).toMatch(/not found|no such file|executable file not found|exit status/i);
      expect(result, cmd).not.toMatch(/Python 3|go version|Client Version|bubblewrap/);
    }
  });
});

describe('the audit log', () => {
  it('names each controller by its own service account, as on a real cluster', async () => {
    const lab = labs[1]!;
    await kubectl(lab, ['create', 'deployment', 'shop', '--image=registry.shop.internal/shop:1.0']);
    const creators = new Set<string>();
    await waitUntil(
      async () => {
        for await (const e of readAuditLog(lab.cluster.auditLogPath)) {
          if (e.verb === 'create' && ['pods', 'replicasets'].includes(e.objectRef?.resource ?? '')) creators.add(e.user.username ?? '');
        }
        return creators.has('system:serviceaccount:kube-system:replicaset-controller');
      },
      { timeoutMs: 20_000, what: 'the replicaset controller to create a pod' },
    );
    expect(creators).toContain('system:serviceaccount:kube-system:deployment-controller');
  });
});

describe('two clusters', () => {
  it("cannot see each other's pod trees", async () => {
    const [a, b] = labs;
    expect(await sh(a!, 'web', 'cat /tmp/evidence-a.txt; ls /tmp/evidence-*')).toBe('only in cluster a\n/tmp/evidence-a.txt\n');
    expect(await sh(b!, 'web', 'cat /tmp/evidence-b.txt; ls /tmp/evidence-*')).toBe('only in cluster b\n/tmp/evidence-b.txt\n');
    expect(await sh(b!, 'web', 'find / -name "evidence-a*" 2>/dev/null; echo done')).toBe('done\n');
  });
});
