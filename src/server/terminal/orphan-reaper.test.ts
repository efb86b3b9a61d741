// Issue 17: what a server killed with SIGKILL left is ended by the next one on the same data dir,
// from the records it wrote (shell-records.ts), and nothing of a live server or of a process that
// merely reuses a recorded pid. Real processes, real claims and (as root) real mounts; the
// end-to-end case through the server is tests/integration/terminal-orphans-real-server.test.ts.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../cluster/runtime.ts';
import { isMountPoint } from './mountinfo.ts';
import { reapOrphans } from './orphan-reaper.ts';
import { ShellRecords, type ServerIdentity } from './shell-records.ts';
import { claimOwnerLine, claimUid, processesOfUid, processStartTime } from './uid-claims.ts';
import { unmountWorkspace } from './workspace-volume.ts';

const asRoot = process.getuid?.() === 0;
const root = mkdtempSync(path.join(os.tmpdir(), 'irlab-orphan-reaper-'));
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
afterAll(() => {
  for (const line of readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
    const target = line.split(' ')[1];
    if (target?.startsWith(`${root}/`)) execFileSync('umount', ['-l', target]);
  }
  rmSync(root, { recursive: true, force: true });
});

let dirs = 0;
function freshDataDir(): { dataDir: string; recordsDir: string } {
  const dataDir = path.join(root, `data-${++dirs}`);
  mkdirSync(path.join(dataDir, 'workspaces'), { recursive: true });
  return { dataDir, recordsDir: path.join(dataDir, 'terminal-owners') };
}
/** A server that is gone: a pid that existed and exited. */
const deadServer = (): ServerIdentity => ({ pid: spawnSync('/bin/true').pid!, start: '1' });
function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** A detached shell with two children, as a learner's sandbox tree; resolves once all three run. */
async function shellTree(): Promise<{ shell: ChildProcess; pids: () => number[] }> {
  const shell = spawn('/bin/sh', ['-c', 'sleep 1000 & sleep 1000 & echo started; wait'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(shell);
  await new Promise((resolve) => shell.stdout!.once('data', resolve));
  const pids = () => execFileSync('ps', ['-o', 'pid=', '--ppid', String(shell.pid)], { encoding: 'utf8' }).trim().split(/\s+/).filter(Boolean).map(Number);
  return { shell, pids };
}

const options = (dataDir: string, recordsDir: string) => ({ dataDir, recordsDir, cgroups: null, unmount: unmountWorkspace });

describe('reaping what a dead server left', () => {
  it("kills a dead server's shell and everything below it (no cgroup, no uid of its own) and drops its record", async () => {
    const { dataDir, recordsDir } = freshDataDir();
    const { shell, pids } = await shellTree();
    const below = pids();
    expect(below).toHaveLength(2);
    new ShellRecords(recordsDir, deadServer()).saveSession({ session: 's1', owner: 'ana', workspace: path.join(dataDir, 'workspaces', 'ana'), uid: null, cgroup: null, shell: { pid: shell.pid!, start: processStartTime(shell.pid!)! } });

    const report = await reapOrphans(options(dataDir, recordsDir));
    expect(report).toMatchObject({ sessions: 1, processes: 3, problems: [] });
    for (const pid of [shell.pid!, ...below]) await waitUntil(async () => !alive(pid), { timeoutMs: 10_000, intervalMs: 20, what: `pid ${pid} to die` });
    expect(readdirSync(recordsDir).filter((f) => f.startsWith('session-'))).toEqual([]);
  });

  it('leaves a process alone that only reuses the recorded pid (another start time)', async () => {
    const { dataDir, recordsDir } = freshDataDir();
    const { shell } = await shellTree();
    new ShellRecords(recordsDir, deadServer()).saveSession({ session: 's2', owner: 'bo', workspace: path.join(dataDir, 'workspaces', 'bo'), uid: null, cgroup: null, shell: { pid: shell.pid!, start: '1' } });
    const report = await reapOrphans(options(dataDir, recordsDir));
    expect(report.processes).toBe(0);
    expect(alive(shell.pid!)).toBe(true);
  });

  it("never touches a live server's shell (two servers share the machine)", async () => {
    const { dataDir, recordsDir } = freshDataDir();
    const { shell } = await shellTree();
    const live = new ShellRecords(recordsDir); // this process: alive
    live.saveSession({ session: 's3', owner: 'cy', workspace: path.join(dataDir, 'workspaces', 'cy'), uid: null, cgroup: null, shell: { pid: shell.pid!, start: processStartTime(shell.pid!)! } });
    const report = await reapOrphans(options(dataDir, recordsDir));
    expect(report).toMatchObject({ sessions: 0, processes: 0 });
    expect(alive(shell.pid!)).toBe(true);
    expect(existsSync(path.join(recordsDir, 'session-s3.json'))).toBe(true);
  });

  it.skipIf(!asRoot)("ends every process of a dead server's session uid and frees its claim; a claim another server took meanwhile is not its to free", async () => {
    const { dataDir, recordsDir } = freshDataDir();
    const claimsDir = mkdtempSync(path.join(root, 'claims-'));
    const server = deadServer();
    const uid = 250_400;
    writeFileSync(path.join(claimsDir, String(uid)), claimOwnerLine(server.pid, server.start));
    const straggler = spawn('/bin/sleep', ['1000'], { uid, gid: uid, detached: true, stdio: 'ignore' });
    children.push(straggler);
    await new Promise((resolve) => straggler.once('spawn', resolve));
    // The claim is stale, but its uid still runs a process: no one may be given it.
    expect(() => claimUid(claimsDir, { first: uid, last: uid })).toThrow(/in use/);
    const records = new ShellRecords(recordsDir, server);
    records.saveSession({ session: 's4', owner: 'di', workspace: path.join(dataDir, 'workspaces', 'di'), uid: { uid, gid: uid, claimsDir }, cgroup: null, shell: null });
    // A second session on a uid whose claim is now another (live) process's: its processes are not touched.
    const taken = claimUid(claimsDir, { first: uid + 1, last: uid + 1 });
    const neighbour = spawn('/bin/sleep', ['1000'], { uid: uid + 1, gid: uid + 1, detached: true, stdio: 'ignore' });
    children.push(neighbour);
    await new Promise((resolve) => neighbour.once('spawn', resolve));
    records.saveSession({ session: 's5', owner: 'ed', workspace: path.join(dataDir, 'workspaces', 'ed'), uid: { uid: uid + 1, gid: uid + 1, claimsDir }, cgroup: null, shell: null });

    const report = await reapOrphans(options(dataDir, recordsDir));
    expect(report).toMatchObject({ sessions: 2, claims: 1, problems: [] });
    expect(processesOfUid(uid)).toEqual([]);
    expect(existsSync(path.join(claimsDir, String(uid)))).toBe(false);
    expect(alive(neighbour.pid!)).toBe(true);
    expect(existsSync(taken.file)).toBe(true);
    taken.release();
  });

  it.skipIf(!asRoot)('unmounts the workspaces a dead server (or one without records) mounted, except those a live server uses', async () => {
    const { dataDir, recordsDir } = freshDataDir();
    const [left, used, unrecorded, listed] = ['fay', 'gus', 'hal', 'ida'].map((owner) => path.join(dataDir, 'workspaces', owner)) as [string, string, string, string];
    for (const dir of [left, used, unrecorded, listed]) {
      mkdirSync(dir);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
    }
    const dead = new ShellRecords(recordsDir, deadServer());
    dead.addMount(left);
    dead.addMount(used);
    const live = new ShellRecords(recordsDir);
    live.saveSession({ session: 's6', owner: 'gus', workspace: used, uid: null, cgroup: null, shell: null });
    live.addMount(listed);

    const report = await reapOrphans(options(dataDir, recordsDir));
    expect(report.mounts.sort()).toEqual([left, unrecorded]);
    expect(isMountPoint(left)).toBe(false);
    expect(isMountPoint(unrecorded)).toBe(false);
    expect(isMountPoint(used)).toBe(true);
    expect(isMountPoint(listed)).toBe(true);
    expect(readdirSync(recordsDir).filter((f) => f.startsWith('server-'))).toEqual([`server-${process.pid}.json`]);
  });
});
