/**
 * A host uid of its own for every learner shell, unique across every irlab process on the
 * machine (several servers and test runs share it), so that one learner's processes never count
 * against, or can signal, another's.
 *
 * A claim is a file named after the uid in a root-owned directory (default `/run/irlab/uids`,
 * a tmpfs: claims vanish on reboot with the processes they guarded). It is created with O_EXCL, so
 * two processes can never hold one uid, and holds its owner's pid and start time. The owner deletes
 * it once no process of that uid is left. A claim whose owner died (a crashed server) is
 * reclaimed: under a lock file named after the claim's inode (also O_EXCL), so exactly one
 * reclaimer removes exactly the stale file it examined, never a fresh claim put in its place.
 * A stale claim is never reclaimed while a process of its uid runs (a shell its crashed server
 * left): the uid would come with that process. The data dir's next server ends such processes and
 * frees the claim (orphan-reaper.ts, `reapClaim`).
 * The gid is the same number; neither needs a passwd entry (the sandbox's /etc/passwd is ours).
 */
import { closeSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync, constants } from 'node:fs';
import path from 'node:path';

export const DEFAULT_UID_CLAIMS_DIR = '/run/irlab/uids';
export const DEFAULT_UID_RANGE = { first: 200_000, last: 299_999 };
/** A claim file without a readable owner is not reclaimed before this age: it may be being written. */
const UNREADABLE_GRACE_MS = 10_000;

export interface UidRange {
  first: number;
  last: number;
}

export interface UidClaim {
  uid: number;
  gid: number;
  /** The claim file (for tests and diagnostics). */
  file: string;
  /** Deletes the claim; call only once no process of the uid is left. Idempotent. */
  release(): void;
}

/** `IRLAB_SANDBOX_UIDS=FIRST-LAST`; the default keeps clear of system users and subuid ranges starting at 100000. */
export function parseUidRange(text: string | undefined): UidRange {
  if (!text) return DEFAULT_UID_RANGE;
  const match = /^(\d+)-(\d+)$/.exec(text.trim());
  const first = Number(match?.[1]);
  const last = Number(match?.[2]);
  if (!match || first < 1000 || last < first || last > 0xfffffffe) {
    throw new Error(`IRLAB_SANDBOX_UIDS=${JSON.stringify(text)} must be FIRST-LAST with 1000 <= FIRST <= LAST (for example 200000-299999)`);
  }
  return { first, last };
}

/** Creates the claims directory and checks nobody but root can plant files in it. */
export function prepareClaimsDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = lstatSync(dir);
  const root = (process.getuid?.() ?? 0) === 0;
  if (!stat.isDirectory() || (root && stat.uid !== 0) || (stat.mode & 0o022) !== 0) {
    throw new Error(`the uid claims directory ${dir} must be a directory owned by root and writable by nobody else (it is ${stat.isDirectory() ? `uid ${stat.uid}, mode ${(stat.mode & 0o777).toString(8)}` : 'not a directory'}); remove it and retry`);
  }
}

/** `/proc/<pid>/stat` field 22: when the process started, in clock ticks since boot; null when it is gone. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Pids whose real uid is `uid`; zombies are left out (they run nothing, and only their parent can clear them). */
export function processesOfUid(uid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = readFileSync(`/proc/${name}/status`, 'utf8');
      if (Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) === uid && !/^State:\s+Z/m.test(status)) pids.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** What a claim file holds: its owner's pid and start time. */
export const claimOwnerLine = (pid: number, started: string | null) => `${pid} ${started ?? '?'}\n`;
const ownerLine = () => claimOwnerLine(process.pid, processStartTime(process.pid));

/** Whether a claim with this content and age belongs to a process that is gone. */
function isStale(text: string, mtimeMs: number): boolean {
  const [pid, started] = text.trim().split(' ');
  if (!pid || !/^\d+$/.test(pid) || !started) return Date.now() - mtimeMs > UNREADABLE_GRACE_MS;
  const now = processStartTime(Number(pid));
  // Gone, or the pid was reused by a process that started later.
  return now === null || (started !== '?' && now !== started);
}

function tryCreate(file: string): number | null {
  try {
    const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      writeSync(fd, ownerLine());
      return fstatSync(fd).ino;
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return null;
    throw error;
  }
}

/**
 * The inode of `file` if it is a stale claim (and, given `owner`, holds exactly that line); null
 * otherwise, or when it is gone or not a regular file.
 */
function staleInode(file: string, owner?: string): number | null {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return null; // released meanwhile (try again) or not a regular file (leave it)
  }
  try {
    const stat = fstatSync(fd);
    const text = readFileSync(fd, 'utf8');
    if (!stat.isFile() || (owner !== undefined && text !== owner) || !isStale(text, stat.mtimeMs)) return null;
    return stat.ino;
  } finally {
    closeSync(fd);
  }
}

/**
 * Runs `locked` holding the reclaim lock of the stale claim `file` (of `owner`, if given), as the
 * only reclaimer of that inode. Under the lock the claim is judged again: between the first look
 * and the lock, another reclaimer may have replaced it with a fresh claim that reuses the inode
 * number, and a fresh claim's owner is alive. Null when it is not (or no longer) a stale claim, or
 * another process is reclaiming it.
 */
async function withStaleClaim<T>(file: string, owner: string | undefined, locked: () => T | Promise<T>): Promise<T | null> {
  const ino = staleInode(file, owner);
  if (ino === null) return null;
  const lock = `${file}.reclaim-${ino}`;
  if (tryCreate(lock) === null) return null; // another process is reclaiming this very claim
  try {
    if (staleInode(file, owner) !== ino) return null;
    return await locked();
  } finally {
    unlinkSync(lock);
  }
}

/** The synchronous half of withStaleClaim, for claimUid. */
function reclaimIfStale(file: string): boolean {
  const ino = staleInode(file);
  // A process of the uid still runs (a crashed server's shell): the uid is not free, whoever owns the claim.
  if (ino === null || processesOfUid(Number(path.basename(file))).length > 0) return false;
  const lock = `${file}.reclaim-${ino}`;
  if (tryCreate(lock) === null) return false; // another process is reclaiming this very claim
  try {
    // Only a holder of this inode's lock removes this inode; judged again under it (see withStaleClaim).
    if (staleInode(file) !== ino) return false;
    unlinkSync(file);
    return true;
  } finally {
    unlinkSync(lock);
  }
}

/**
 * Claims a free uid of `range` in `dir`. Starts at a random place so concurrent servers rarely
 * meet; throws when every uid is held by a live process.
 */
export function claimUid(dir: string, range: UidRange = DEFAULT_UID_RANGE, random: () => number = Math.random): UidClaim {
  const size = range.last - range.first + 1;
  const start = Math.floor(random() * size);
  for (let i = 0; i < size; i++) {
    const uid = range.first + ((start + i) % size);
    const file = path.join(dir, String(uid));
    let ino = tryCreate(file);
    if (ino === null && reclaimIfStale(file)) ino = tryCreate(file);
    if (ino === null) continue;
    const claimed = ino;
    let released = false;
    return {
      uid,
      gid: uid,
      file,
      release() {
        if (released) return;
        released = true;
        if (lstatSync(file, { throwIfNoEntry: false })?.ino === claimed) unlinkSync(file);
      },
    };
  }
  throw new Error(`every sandbox uid ${range.first}-${range.last} is in use by a live terminal session (claims in ${dir}); end some sessions or widen IRLAB_SANDBOX_UIDS`);
}

/**
 * Frees the claim a dead server left for one of its sessions. `file` must still hold `owner` (the
 * dead server's claim line) and be stale; then `end` runs under the claim's reclaim lock (so no
 * other process reclaims the uid meanwhile) and must end every process of the uid, answering
 * whether none is left; only then is the claim deleted. `not-ours`: the claim is gone or belongs to
 * someone else now (`end` did not run: the uid may be another session's).
 */
export async function reapClaim(file: string, owner: string, end: () => Promise<boolean>): Promise<'released' | 'kept' | 'not-ours'> {
  const outcome = await withStaleClaim(file, owner, async () => {
    if (!(await end())) return 'kept' as const;
    unlinkSync(file);
    return 'released' as const;
  });
  return outcome ?? 'not-ours';
}
