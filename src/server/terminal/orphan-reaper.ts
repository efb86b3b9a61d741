/**
 * At start, ends what servers of the same data dir that are gone left behind (shell-records.ts):
 * the processes of their shells, the shells' cgroups, uid claims, kubeconfig and relay socket
 * files, and the workspace filesystems they mounted. A record of a live server (another one on the
 * machine, e.g. a test's) is never touched.
 *
 * A shell's processes are found three ways, each only when it cannot name someone else's: its
 * cgroup (every process of the shell joined it before bwrap started); its uid, but only while the
 * uid's claim still holds the dead server's pid and start time (then no one else was given it), and
 * under the claim's reclaim lock; and the recorded PTY process with everything below it, but only
 * if that pid still has the recorded start time (a recycled pid is left alone). The tree is
 * stopped (SIGSTOP) until no new process appears, so nothing forks or gets re-parented away, and
 * then killed. A workspace is unmounted (a dead server's, or one under the data dir that no record
 * lists: a server from before the records left it) only once the shells using it are gone and no
 * live server lists it as mounted or has a session on it; its image stays (the learner's files are
 * progress), and the starting server mounts it again as it does every image.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ShellCgroup, type CgroupHost } from './cgroups.ts';
import { isMountPoint, readMountinfo } from './mountinfo.ts';
import { killEverythingOf } from './shell-budget.ts';
import { readRecords, serverAlive, type SessionRecord } from './shell-records.ts';
import { claimOwnerLine, processesOfUid, processStartTime, reapClaim } from './uid-claims.ts';

export interface ReapOrphansOptions {
  /** The records directory (`<data>/terminal-owners`). */
  recordsDir: string;
  dataDir: string;
  /** This host's shell cgroups (null: none). */
  cgroups: CgroupHost | null;
  /** Unmounts a workspace filesystem (not lazily: a busy one stays mounted); throws why not. */
  unmount: (dir: string) => Promise<void>;
}

export interface OrphanReport {
  /** Sessions of dead servers whose remains were ended. */
  sessions: number;
  /** Processes signalled (a tree's, a cgroup's or a uid's). */
  processes: number;
  claims: number;
  mounts: string[];
  /** What could not be ended, and why (logged; the record stays for the next start). */
  problems: string[];
}

/** Every process with its parent and start time, from /proc. */
function processTable(): Array<{ pid: number; ppid: number; start: string }> {
  const table: Array<{ pid: number; ppid: number; start: string }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.push({ pid: Number(name), ppid: Number(fields[1]), start: fields[19] ?? '' });
    } catch {
      // exited meanwhile
    }
  }
  return table;
}

/** `root` and its descendants, each with its start time; empty when root is not the recorded process. */
function treeOf(root: { pid: number; start: string }): Array<{ pid: number; start: string }> {
  const table = processTable();
  const top = table.find((p) => p.pid === root.pid);
  if (!top || top.start !== root.start) return [];
  const tree = [top];
  for (let i = 0; i < tree.length; i++) tree.push(...table.filter((p) => p.ppid === tree[i]!.pid && p.pid !== tree[i]!.pid));
  return tree;
}

function signal(process_: { pid: number; start: string }, name: NodeJS.Signals): boolean {
  // The start time is checked right before the signal: a pid that was recycled meanwhile is skipped.
  if (processStartTime(process_.pid) !== process_.start) return false;
  try {
    process.kill(process_.pid, name);
    return true;
  } catch {
    return false;
  }
}

/** Stops the recorded shell's tree until it stops growing, then SIGKILLs it. Returns the pids killed. */
export async function endTree(root: { pid: number; start: string }): Promise<number[]> {
  let tree: Array<{ pid: number; start: string }> = [];
  for (let round = 0; round < 50; round++) {
    const now = treeOf(root);
    for (const p of now) signal(p, 'SIGSTOP');
    const grew = now.length !== tree.length;
    tree = now;
    if (!grew) break;
  }
  return tree.filter((p) => signal(p, 'SIGKILL')).map((p) => p.pid);
}

/** Kills until `alive` lists none (about 1 s of rounds), noting each pid in `victims`; true when none is left. */
async function killUntilEmpty(alive: () => number[], kill: () => Promise<void>, victims: Set<number>): Promise<boolean> {
  for (let round = 0; round < 50; round++) {
    const left = alive();
    if (!left.length) return true;
    for (const pid of left) victims.add(pid);
    await kill();
    await sleep(20);
  }
  return alive().length === 0;
}

async function reapSession(record: SessionRecord, options: ReapOrphansOptions, report: OrphanReport): Promise<boolean> {
  const group = record.cgroup && options.cgroups ? ShellCgroup.open(options.cgroups, record.cgroup) : null;
  const victims = new Set(record.shell ? await endTree(record.shell) : []);
  let empty = await killUntilEmpty(() => group?.processes() ?? [], async () => group?.kill(), victims);
  let uidFreed = false;
  if (record.uid) {
    const { uid, gid, claimsDir } = record.uid;
    const claim = path.join(claimsDir, String(uid));
    // Only while the claim is still the dead server's is every process of that uid this shell's.
    const outcome = await reapClaim(claim, claimOwnerLine(record.server.pid, record.server.start), () => killUntilEmpty(() => processesOfUid(uid), () => killEverythingOf(uid, gid), victims));
    if (outcome === 'kept') empty = false;
    if (outcome === 'released') {
      uidFreed = true;
      report.claims++;
    }
  }
  report.processes += victims.size;
  if (!empty) {
    report.problems.push(`the processes of session ${record.session} (learner ${record.owner}), left by server ${record.server.pid}, survived SIGKILL; its uid and cgroup stay taken until the next start`);
    return false;
  }
  await group?.remove().catch((error: unknown) => report.problems.push((error as Error).message));
  if (uidFreed) rmSync(path.join(options.dataDir, 'sandbox', 'sessions', String(record.uid!.uid)), { recursive: true, force: true });
  rmSync(path.join(options.dataDir, 'kubeconfigs', `${record.session}.yaml`), { force: true });
  rmSync(path.join(options.dataDir, 'sockets', `${record.session}.sock`), { force: true });
  return true;
}

export async function reapOrphans(options: ReapOrphansOptions): Promise<OrphanReport> {
  const report: OrphanReport = { sessions: 0, processes: 0, claims: 0, mounts: [], problems: [] };
  const { sessions, servers } = readRecords(options.recordsDir);
  const survivors = new Set<string>();
  for (const record of sessions) {
    if (serverAlive(record.server)) continue;
    if (await reapSession(record, options, report)) {
      report.sessions++;
      rmSync(record.file, { force: true });
    } else survivors.add(record.workspace);
  }
  // In use: a workspace a live server mounted or runs a session on, or one a surviving shell still holds.
  const inUse = new Set([...survivors, ...sessions.filter((s) => serverAlive(s.server)).map((s) => s.workspace), ...servers.filter((s) => serverAlive(s.server)).flatMap((s) => s.mounts)]);
  // Also a workspace mount no record lists: a server from before these records left it.
  const workspaces = path.join(options.dataDir, 'workspaces');
  const mounts = readMountinfo();
  const candidates = new Set([...servers.filter((s) => !serverAlive(s.server)).flatMap((s) => s.mounts), ...mounts.map((m) => m.mountPoint)]);
  for (const dir of candidates) {
    if (path.dirname(dir) !== workspaces || inUse.has(dir) || !isMountPoint(dir, mounts)) continue;
    try {
      await options.unmount(dir);
      report.mounts.push(dir);
    } catch (error) {
      report.problems.push(`the workspace ${dir}, mounted by a server that is gone, stays mounted: ${(error as Error).message}`);
    }
  }
  for (const record of servers) if (!serverAlive(record.server)) rmSync(record.file, { force: true });
  return report;
}
