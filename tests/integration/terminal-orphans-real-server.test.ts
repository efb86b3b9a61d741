// Issue 17, found while building recovery: a server killed with SIGKILL left its learner shells'
// remains behind: uid claims, cgroups, workspace loop mounts that no later server unmounted, and
// any process of the shell that outlived the sandbox's own teardown (bwrap's --die-with-parent
// ends the PID namespace, but a process outside it, on the session's uid and in its cgroup, stays).
// Through the real server process (serve.ts over the built site, root: real bwrap, uids, cgroups
// and loop-mounted workspaces): a learner's shell writes a file and a process of that session runs
// outside the sandbox, the server is killed with SIGKILL, and the next server on the same data dir
// ends every process of the session, removes its cgroup, frees its uid and keeps the learner's
// file; when that server stops, no mount is left.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../src/server/cluster/runtime.ts';
import { workspaceVolumeProblem } from '../../src/server/terminal/workspace-volume.ts';
import { learnerShell, type LearnerShell } from './fixtures/learner-shell.ts';
import { startRealServer, type RealServer } from './hostile/real-server.ts';

const asRoot = process.getuid?.() === 0;
const dir = mkdtempSync(path.join(tmpdir(), 'irlab-orphans-'));
const claimsDir = mkdtempSync(path.join(tmpdir(), 'irlab-orphans-uids-'));
// The terminal without a cluster: what is tested is the shell's own processes and resources.
const env = { IRLAB_TERMINAL_CLUSTER: 'none', IRLAB_UID_CLAIMS_DIR: claimsDir };
let server: RealServer;
let shell: LearnerShell | undefined;

/** Pids whose real uid is `uid` (`pgrep -u`, without depending on procps' output format). */
function processesOf(uid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${name}/status`, 'utf8'))?.[1]) === uid) pids.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** The cgroup directories of `pid`, one per v1 controller or the v2 one (irlab's shell groups only). */
function shellCgroupsOf(pid: number): string[] {
  const dirs: string[] = [];
  for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!match || !match[2]!.includes('/irlab/')) continue;
    const controller = match[1]!.split(',').find((c) => ['pids', 'memory', 'cpu'].includes(c));
    if (match[1] === '') dirs.push(path.join('/sys/fs/cgroup', match[2]!));
    else if (controller) dirs.push(path.join('/sys/fs/cgroup', controller, match[2]!));
  }
  return dirs;
}

const mountsUnder = (root: string) =>
  readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((target) => target.startsWith(`${root}/`));

/** Opens (or finds) the learner's session and runs `command` in it; resolves with what it printed after the command line. */
// The same learner (cookie) on whichever server runs now: the test restarts it on another port.
const runInShell = (command: string): Promise<string> => (shell = learnerShell(server, shell?.cookie)).run(command);

beforeAll(async () => {
  if (asRoot) server = await startRealServer(env, { root: dir });
}, 90_000);

afterAll(async () => {
  await server?.stop();
  // Whatever a failed run left: the killed server's shells and mounts (the subject of this test).
  for (const line of readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
    const target = line.split(' ')[1];
    if (target?.startsWith(`${dir}/`)) execFileSync('umount', ['-l', target]);
  }
  for (const uid of readdirSync(claimsDir).filter((name) => /^\d+$/.test(name))) for (const pid of processesOf(Number(uid))) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  rmSync(claimsDir, { recursive: true, force: true });
}, 60_000);

describe.skipIf(!asRoot)('a learner shell left by a server killed with SIGKILL', () => {
  it('is ended at the next start: no process of its uid, no cgroup, no uid claim; the workspace is kept and no mount outlives the server', async () => {
    const printed = await runInShell('echo evidence-of-progress > ~/evidence.txt; echo uid=$(id -u)');
    const uid = Number(/uid=(\d+)/.exec(printed)?.[1]);
    expect(uid).toBeGreaterThanOrEqual(200_000);
    const before = processesOf(uid);
    expect(before.length).toBeGreaterThan(0);
    const cgroups = shellCgroupsOf(before[0]!);
    expect(cgroups.length).toBeGreaterThan(0);
    // A process of that session outside the sandbox's PID namespace (as one that escaped its
    // teardown would be): the session's uid, the session's cgroups, a session of its own.
    const straggler = spawn('/bin/sleep', ['100000'], { uid, gid: uid, detached: true, stdio: 'ignore' });
    straggler.unref();
    for (const group of cgroups) writeFileSync(path.join(group, 'cgroup.procs'), String(straggler.pid));
    const claim = path.join(claimsDir, String(uid));
    expect(existsSync(claim)).toBe(true);
    const workspaceMounted = workspaceVolumeProblem() === null;
    if (workspaceMounted) expect(mountsUnder(dir).length).toBeGreaterThan(0);

    server.child.kill('SIGKILL');
    await server.exited;
    // The crash ends the sandbox (--die-with-parent), not what runs outside it.
    expect(processesOf(uid)).toContain(straggler.pid);

    server = await startRealServer(env, { root: dir });
    await waitUntil(async () => processesOf(uid).length === 0, { timeoutMs: 60_000, intervalMs: 100, what: `the processes of uid ${uid}, left by the killed server, to be ended` });
    await waitUntil(async () => cgroups.every((group) => !existsSync(group)) && !existsSync(claim), { timeoutMs: 60_000, intervalMs: 100, what: `the cgroups ${cgroups.join(', ')} and the claim ${claim} to be removed` });
    await waitUntil(async () => server.output.some((line) => /irlab terminal: ended 1 shell left by a server that is gone/.test(line)), { timeoutMs: 60_000, intervalMs: 100, what: 'the server to report what it ended' });
    // docs/terminal.md quotes this line.
    console.info(server.output.find((line) => line.includes('left by a server that is gone')));

    // The learner's evidence is progress: it is still there, in a new shell of a new uid.
    const again = await runInShell('cat ~/evidence.txt; echo uid=$(id -u)');
    expect(again).toContain('evidence-of-progress');

    await server.stop();
    // Every workspace mount, the killed server's included, went with the server that stopped.
    expect(mountsUnder(dir)).toEqual([]);
  }, 300_000);
});
