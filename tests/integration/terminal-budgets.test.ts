/**
 * Issue 15, finding 6 on the shell side: what one learner's shell may consume. Real bubblewrap,
 * real PTYs, real bash, the real cgroups and loop-mounted workspaces of this host (root only:
 * without root there is nothing to allocate, see docs/terminal.md). Each test plays the
 * attacker in one shell and checks the limit held, the neighbour's shell was not touched, and
 * nothing is left behind once the session ends.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeOutputFrame } from '../../src/lib/terminal-protocol.ts';
import { spawnNodePty } from '../../src/server/terminal/node-pty-spawn.ts';
import { prepareSandboxHost } from '../../src/server/terminal/sandbox-host.ts';
import { TerminalManager } from '../../src/server/terminal/session-manager.ts';
import type { TerminalConnection, TerminalSession } from '../../src/server/terminal/session.ts';

const MiB = 1024 * 1024;
const root = mkdtempSync(path.join(os.tmpdir(), 'irlab-budgets-test-'));
const dataDir = path.join(root, 'data');
let manager: TerminalManager;
let clientSeq = 0;

/** Runs one command line in `session`; resolves with what it printed (plain text) up to `exit=<status>`. */
async function sh(session: TerminalSession, command: string, timeoutMs = 30_000): Promise<string> {
  let output = '';
  const tag = Math.random().toString(36).slice(2);
  const connection: TerminalConnection = {
    sendText: () => {},
    sendBinary: (frame) => (output += new TextDecoder().decode(decodeOutputFrame(frame)!.data)),
    close: () => {},
  };
  // A new client each time: its input seq starts at 1 and the whole output is replayed from now on.
  session.attach(connection, { t: 'hello', v: 1, clientId: `budgets-${++clientSeq}`, lastOutputSeq: Number.MAX_SAFE_INTEGER, cols: 200, rows: 50 });
  // The markers are split in the command so the echoed command line never contains them.
  const body = /&\s*$/.test(command) ? command : `${command};`; // `cmd &;` would be a syntax error
  session.receive(connection, JSON.stringify({ t: 'input', seq: 1, data: `echo "<<""${tag}"; ${body} echo "${tag}"">>:$?"\r` }));
  const end = new RegExp(`${tag}>>:(\\d+)`);
  const started = Date.now();
  while (!end.test(output)) {
    if (Date.now() - started > timeoutMs) throw new Error(`no answer to ${command} within ${timeoutMs} ms; got ${output.slice(-2000)}`);
    session.receive(connection, JSON.stringify({ t: 'ack', seq: 0xffffffff }));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  session.receive(connection, JSON.stringify({ t: 'ack', seq: 0xffffffff }));
  session.detach(connection);
  // eslint-disable-next-line no-control-regex
  const plain = output.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
  return plain.slice(plain.indexOf(`<<${tag}\n`) + tag.length + 3).replace(end, 'exit=$1');
}

/** Host pids of `pid` and everything below it (the sandbox's whole process tree, seen from outside). */
function treeOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // exited meanwhile
    }
  }
  const tree: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const next = queue.shift()!;
    tree.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return tree;
}

const uidOf = (pid: number) => Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
/** The shell's process on the host: bash, the deepest process of a fresh session's tree. */
const bashOf = (session: TerminalSession) => treeOf(session.pid).find((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'bash')!;
/** The cgroup directory of `pid` in the v1 `pids` hierarchy (this project's hosts) or v2. */
function pidsCgroupOf(pid: number): string {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  const v1 = lines.find((line) => /^\d+:([^:]*,)?pids(,[^:]*)?:/.test(line));
  if (v1) return path.join('/sys/fs/cgroup/pids', v1.split(':')[2]!);
  return path.join('/sys/fs/cgroup', lines.find((line) => line.startsWith('0::'))!.slice(3));
}

describe.skipIf(process.getuid?.() !== 0)('budgets per learner shell (root: per-session uids, cgroups, workspace filesystems)', { timeout: 120_000 }, () => {
  beforeAll(() => {
    manager = new TerminalManager({ dataDir, host: prepareSandboxHost(dataDir), spawnPty: spawnNodePty, leaseCluster: async () => null });
  });

  afterAll(async () => {
    await manager.shutdown();
    rmSync(root, { recursive: true, force: true });
  });

  it('gives each session its own unprivileged host uid, owning its workspace', async () => {
    const alice = await manager.open('alice');
    const bob = await manager.open('bob');
    const aliceUid = Number((await sh(alice, 'id -u')).trim().split('\n')[0]);
    const bobUid = Number((await sh(bob, 'id -u')).trim().split('\n')[0]);
    expect(aliceUid).not.toBe(bobUid);
    for (const uid of [aliceUid, bobUid]) expect(uid >= 200_000 && uid <= 299_999, `uid ${uid}`).toBe(true);
    expect(uidOf(bashOf(alice))).toBe(aliceUid); // the host agrees: no user namespace remaps it
    expect(statSync(manager.workspaceDir('alice')).uid).toBe(aliceUid);
    expect(await sh(alice, 'whoami; echo kept > mine.txt && cat mine.txt')).toMatch(/^learner\nkept\n/);
    expect(statSync(path.join(manager.workspaceDir('alice'), 'mine.txt')).uid).toBe(aliceUid);
    expect(existsSync(`/run/irlab/uids/${aliceUid}`)).toBe(true);
    // Bob killing every process he may signal does not reach Alice's: another uid.
    await sh(alice, 'sleep 600 &');
    await sh(bob, 'kill -9 -1');
    expect(await sh(alice, 'jobs -r | wc -l')).toMatch(/^1$/m);
  });

  it("caps a fork bomb at the shell's pids limit while the neighbour still starts processes", async () => {
    const carol = await manager.open('carol');
    const dave = await manager.open('dave');
    // dash stops at the first refused fork ("Cannot fork") instead of retrying like bash.
    const bomb = await sh(carol, "sh -c 'for i in $(seq 1000); do sleep 600 >/dev/null 2>&1 & done; echo all-started' 2>&1 | tail -n 2");
    expect(bomb).not.toContain('all-started');
    expect(bomb).toMatch(/Cannot fork|Resource temporarily unavailable/);
    const carolTree = treeOf(carol.pid).length;
    expect(carolTree).toBeLessThanOrEqual(256);
    expect(carolTree).toBeGreaterThan(200); // it did fill its own budget
    // The neighbour starts a hundred processes of its own, and they all run.
    expect(await sh(dave, 'for i in $(seq 100); do sleep 600 & done; jobs -r | wc -l')).toMatch(/^100$/m);
    // Carol can get out of it with the builtin kill (it needs no fork), and start processes again.
    expect(await sh(carol, 'kill -9 -1; sleep 0.1; echo $((6 * 7))')).toContain('42');
  });

  it('OOM-kills a memory hog inside its own cgroup, sparing the server and the neighbour', async () => {
    const erin = await manager.open('erin');
    const frank = await manager.open('frank');
    await sh(frank, 'sleep 600 &');
    const frankSleep = treeOf(frank.pid).find((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep')!;
    // tail buffers its whole input when there is no newline: 1.5 GiB of it, against a 512 MiB limit.
    const out = await sh(erin, 'head -c 1536M /dev/zero | tail -n 1 | wc -c; echo "tail=${PIPESTATUS[1]}"');
    expect(out).toMatch(/tail=137/); // SIGKILL: the OOM killer chose the hog
    expect(await sh(erin, 'echo still-here')).toContain('still-here');
    // A machine-wide OOM picks a learner's processes before the server's; they can never rank below it.
    const adj = await sh(erin, 'cat /proc/self/oom_score_adj; echo -100 > /proc/self/oom_score_adj');
    expect(adj).toMatch(/Permission denied/);
    expect(adj).toMatch(/^500$/m);
    expect(existsSync(`/proc/${frankSleep}`)).toBe(true);
    expect(await sh(frank, 'echo neighbour-ok')).toContain('neighbour-ok');
  });

  it('refuses a write past the workspace limit with ENOSPC, and the host disk never sees it', async () => {
    const grace = await manager.open('grace');
    const out = await sh(grace, 'head -c 400M /dev/zero > big.bin; echo "rc=$?"; stat -c "size=%s" big.bin', 60_000);
    expect(out).toContain('No space left on device');
    expect(out).toMatch(/rc=1/);
    const onHost = statSync(path.join(manager.workspaceDir('grace'), 'big.bin')).size;
    expect(onHost).toBeLessThan(256 * MiB);
    // The bytes went to the workspace's own filesystem, whose image holds at most its size on the host disk.
    expect(statSync(path.join(dataDir, 'workspace-images', 'grace.ext4')).blocks * 512).toBeLessThanOrEqual(256 * MiB);
    expect(await sh(grace, 'rm big.bin && echo small > note.txt && cat note.txt')).toContain('small');
  });

  it('ends a session whose shell keeps printing, ignoring its hang-up, without taking the server down', async () => {
    const judy = await manager.open('judy');
    await sh(judy, '(trap "" HUP; while :; do echo spam; sleep 0.01; done) &');
    const recording = manager.recordingPath(judy.id);
    await manager.close(judy.id);
    // The output it printed until it was killed is recorded; nothing was written after the end (that threw).
    expect(readFileSync(recording, 'utf8')).toContain('spam');
    expect(await sh(await manager.open('judy'), 'echo fresh')).toContain('fresh');
  });

  it('leaves no process, cgroup, uid claim or mount behind when a session ends', async () => {
    const heidi = await manager.open('heidi');
    await sh(heidi, 'for i in $(seq 20); do sleep 600 & done; (trap "" HUP; sleep 600) &');
    const uid = uidOf(bashOf(heidi));
    const cgroup = pidsCgroupOf(bashOf(heidi));
    expect(cgroup).not.toBe(pidsCgroupOf(process.pid)); // a group of its own, not the server's
    expect(existsSync(cgroup)).toBe(true);
    expect(existsSync(`/run/irlab/uids/${uid}`)).toBe(true);
    const tree = treeOf(heidi.pid);
    expect(tree.length).toBeGreaterThan(20);
    await manager.close(heidi.id);
    expect(tree.filter((pid) => existsSync(`/proc/${pid}`) && uidOf(pid) === uid)).toEqual([]);
    expect(existsSync(cgroup)).toBe(false);
    expect(existsSync(`/run/irlab/uids/${uid}`)).toBe(false);
    // The workspace stays (mounted, for the lab's checks) and is handed to the next session's uid.
    const again = await manager.open('heidi');
    await sh(again, 'true');
    const next = uidOf(bashOf(again));
    expect(statSync(manager.workspaceDir('heidi')).uid).toBe(next);
    await manager.shutdown();
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(dataDir);
  });
});
