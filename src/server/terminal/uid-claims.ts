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
 * The gid is the same number; neither needs a passwd entry (the sandbox's /etc/passwd is ours).
 */
import { closeSync, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync, constants } from 'node:fs';
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

const ownerLine = () => `${process.pid} ${processStartTime(process.pid) ?? '?'}\n`;

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

/** Removes `file` if its owner is dead, as the only reclaimer of that inode. True if it was removed. */
function reclaimIfStale(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return false; // released meanwhile (try again) or not a regular file (leave it)
  }
  let ino: number;
  let stale: boolean;
  try {
    const stat = fstatSync(fd);
    ino = stat.ino;
    stale = stat.isFile() && isStale(readFileSync(fd, 'utf8'), stat.mtimeMs);
  } finally {
    closeSync(fd);
  }
  if (!stale) return false;
  const lock = `${file}.reclaim-${ino}`;
  if (tryCreate(lock) === null) return false; // another process is reclaiming this very claim
  try {
    // Only a holder of this inode's lock removes this inode, and no new claim can appear while
    // it is still there: if the path still names it, it is the stale claim we judged.
    if (lstatSync(file, { throwIfNoEntry: false })?.ino !== ino) return false;
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
