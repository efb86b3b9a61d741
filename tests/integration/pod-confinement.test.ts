// Issue 15, finding 1: `kubectl exec` into a lab pod ran as host root (uid_map `0 0 1`, the
// host's sysctls writable, core_pattern open for writing). On a REAL embedded cluster: a pod's
// commands run as the cluster's unprivileged pod uid (root only inside its own user namespace),
// cannot touch kernel settings, build namespaces or mount, and each exec has a budget of tasks
// and memory; kwok-controller runs as an unprivileged uid too. The pod still owns its tree.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstat, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { podSandboxBinaryName } from '../../src/server/cluster/binaries.ts';
import { EmbeddedProvider } from '../../src/server/cluster/embedded-provider.ts';
import { readPid } from '../../src/server/cluster/kwokctl.ts';
import { PodRuntime } from '../../src/server/cluster/pod-runtime.ts';
import { POD_UID_BASE } from '../../src/server/cluster/pod-tree.ts';
import { waitUntil } from '../../src/server/cluster/runtime.ts';
import type { ClusterInfo } from '../../src/server/cluster/types.ts';
import { buildSeccompFilter } from '../../src/server/terminal/seccomp.ts';
import { podDir } from '../../src/server/scenarios/pod-evidence.ts';

const run = promisify(execFile);

let work: string;
let provider: EmbeddedProvider;
let cluster: ClusterInfo;
let runtime: PodRuntime;
let port: number;

async function kubectl(args: string[], timeout = 60_000) {
  return run(join(provider.binDir, 'kubectl'), ['--kubeconfig', cluster.kubeconfigPath, ...args], { timeout });
}

/** `sh -c` in the pod; stdout, or the error's stdout+stderr when the command fails. */
async function sh(script: string): Promise<string> {
  try {
    return (await kubectl(['exec', 'web', '--', 'sh', '-c', script])).stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}`;
  }
}

interface HostProcess {
  pid: number;
  /** Real, effective, saved and filesystem uid. */
  uids: number[];
  argv: string[];
}

async function hostProcesses(): Promise<HostProcess[]> {
  const out: HostProcess[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = await readFile(`/proc/${entry}/status`, 'utf8');
      const uids = (status.match(/^Uid:\s+(.*)$/m)?.[1] ?? '').split(/\s+/).map(Number);
      const argv = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').filter(Boolean);
      out.push({ pid: Number(entry), uids, argv });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** The cluster's exec cgroups, irlab-pods-<supervisor pid>, anywhere under /sys/fs/cgroup (v1 or v2), a few levels deep. */
async function clusterCgroups(supervisorPid: number, dir = '/sys/fs/cgroup', depth = 0): Promise<string[]> {
  const found: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return found;
  }
  for (const entry of entries.filter((e) => e.isDirectory())) {
    if (entry.name === `irlab-pods-${supervisorPid}`) found.push(join(dir, entry.name));
    else if (depth < 5) found.push(...(await clusterCgroups(supervisorPid, join(dir, entry.name), depth + 1)));
  }
  return found;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'irlab-confine-it-'));
  provider = new EmbeddedProvider({ workDir: join(work, 'kwok') });
  cluster = await provider.create({ name: `confine-${randomBytes(2).toString('hex')}` });
  runtime = await PodRuntime.start(cluster);
  port = Number(new URL((await readFile(cluster.kubeconfigPath, 'utf8')).match(/server: (\S+)/)![1]!).port);
  await kubectl(['run', 'web', '--image=registry.shop.internal/web-app:2.14.1']);
  await runtime.ready('default', 'web');
}, 240_000);

afterAll(async () => {
  await runtime?.stop();
  if (cluster) await provider.delete(cluster.name).catch(() => {});
  await rm(work, { recursive: true, force: true });
}, 120_000);

describe("a pod's root", () => {
  it('is the cluster pod uid (300000 + API server port) on the host, and ends with the exec', async () => {
    const podUid = POD_UID_BASE + port;
    expect((await sh('id -u')).trim()).toBe('0');
    const script = `sleep 5; : ${randomBytes(4).toString('hex')}`;
    const session = kubectl(['exec', 'web', '--', 'sh', '-c', script]);
    const processes = async () => (await hostProcesses()).filter((p) => p.argv.join(' ') === `sh -c ${script}`);
    await waitUntil(async () => (await processes()).some((p) => p.uids[0] === podUid), { timeoutMs: 30_000, what: "the pod's command on the host" });
    // Two processes carry that argv: kwok's shim (kwok's uid) and the pod's command. Neither is root.
    const found = await processes();
    expect(found.map((p) => p.uids).sort()).toEqual([Array(4).fill(podUid), Array(4).fill(400_000 + port)]);
    const command = found.find((p) => p.uids[0] === podUid)!;
    // Read from the host and from inside: the pod's root is the pod uid, never host root (`0 0 1`).
    expect((await readFile(`/proc/${command.pid}/uid_map`, 'utf8')).trim().split(/\s+/)).toEqual(['0', String(podUid), '1']);
    expect((await sh('cat /proc/self/uid_map /proc/self/gid_map')).trim().split('\n').map((line) => line.trim().split(/\s+/))).toEqual([
      ['0', String(podUid), '1'],
      ['0', String(podUid), '1'],
    ]);
    await session;
    expect((await hostProcesses()).filter((p) => p.uids[0] === podUid)).toEqual([]);
  });

  it('owns its tree: writes /tmp, /etc and new directories like a writable layer', async () => {
    const out = await sh('echo x > /tmp/f && cat /tmp/f; echo motd > /etc/motd; mkdir -p /var/log/app && touch /var/log/app/a.log; ls -ld / | cut -c1-10; echo done');
    expect(out).toBe('x\ndrwxr-xr-x\ndone\n');
    const { rootfs } = podDir(cluster.dir, 'default', 'web');
    for (const file of ['tmp/f', 'etc/motd', 'var/log/app/a.log', '.', 'bin/busybox']) {
      expect((await lstat(join(rootfs, file))).uid, file).toBe(POD_UID_BASE + port);
    }
  });

  it("cannot change the host's kernel settings", async () => {
    const setting = '/proc/sys/kernel/printk_ratelimit';
    const before = (await readFile(setting, 'utf8')).trim();
    try {
      const out = await sh(`echo ${Number(before) + 1} > ${setting} && echo written; (: >> /proc/sys/kernel/core_pattern) 2>/dev/null && echo core-writable; grep ' /proc/sys ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1`);
      expect(out).not.toContain('written');
      expect(out).not.toContain('core-writable');
      expect(out).toContain('ro\n');
      expect((await readFile(setting, 'utf8')).trim()).toBe(before);
    } finally {
      await writeFile(setting, `${before}\n`);
    }
  });

  it('cannot make namespaces, mount, or regain privileges', async () => {
    const out = await sh(
      'unshare -U true 2>/dev/null; echo userns=$?; unshare -m true 2>/dev/null; echo mountns=$?; mount -t tmpfs none /mnt 2>/dev/null; echo mount=$?; grep -E "^(NoNewPrivs|Seccomp|CapEff):" /proc/self/status',
    );
    // Only stdin, stdout, stderr and the directory ls is reading: no descriptor the server
    // inherited from whoever started it (Go's exec passes those on) reaches the pod.
    expect((await kubectl(['exec', 'web', '--', 'ls', '/proc/self/fd'])).stdout.split(/\s+/).filter(Boolean)).toEqual(['0', '1', '2', '3']);
    expect(out).toMatch(/^userns=[1-9]/m);
    expect(out).toMatch(/^mountns=[1-9]/m);
    expect(out).toMatch(/^mount=[1-9]/m);
    expect(out).toMatch(/^NoNewPrivs:\s+1$/m);
    expect(out).toMatch(/^Seccomp:\s+2$/m);
    expect(out).toMatch(/^CapEff:\s+0+$/m);
  });

  it("runs under the learner shell's seccomp filter", async () => {
    const { stdout } = await run(join(provider.binDir, podSandboxBinaryName()), ['--seccomp-filter'], { encoding: 'buffer' });
    const message = 'engine/podsandbox/seccomp.go must build the filter of src/server/terminal/seccomp.ts: change both together';
    expect(Buffer.compare(stdout, Buffer.from(buildSeccompFilter()!)), message).toBe(0);
  });
});

describe("a pod exec's budget", () => {
  it('stops a process flood at the pids limit, and leaves nothing behind', async () => {
    const supervisor = await readPid(join(cluster.dir, 'pids'), 'kwok-controller');
    expect(supervisor).not.toBeNull();
    // Each started sleep prints its number; fork fails (or the shell gives up) at the limit.
    const out = await sh('i=0; while [ $i -lt 600 ]; do sleep 600 & i=$((i+1)); echo $i; done 2>/dev/null; echo finished');
    const started = Math.max(...out.split('\n').map(Number).filter(Number.isInteger));
    expect(started).toBeGreaterThan(100);
    expect(started).toBeLessThan(256);
    // The pod's processes and the exec's cgroup are gone once the exec has answered.
    expect((await hostProcesses()).filter((p) => p.uids[0] === POD_UID_BASE + port)).toEqual([]);
    const groups = await clusterCgroups(supervisor!);
    expect(groups.length).toBeGreaterThan(0);
    for (const group of groups) expect((await readdir(group, { withFileTypes: true })).filter((e) => e.isDirectory())).toEqual([]);
    expect(await sh('echo still-works')).toBe('still-works\n');
  });

  it('kills a memory hog at the memory limit', async () => {
    const out = await sh('dd if=/dev/zero of=/dev/null bs=300M count=1 2>/dev/null; echo rc=$?; dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null; echo small=$?');
    expect(out).toMatch(/^rc=137$/m);
    expect(out).toMatch(/^small=0$/m);
  });
});

describe('kwok-controller', () => {
  it('runs as the cluster kwok uid (400000 + API server port), not as root', async () => {
    const kwok = (await hostProcesses()).filter((p) => p.argv[0] === '/irlab/kwok' && p.argv.some((a) => a.includes(cluster.dir)));
    expect(kwok).toHaveLength(1);
    expect(kwok[0]!.uids).toEqual(Array(4).fill(400_000 + port));
  });
});
