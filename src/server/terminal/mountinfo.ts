/**
 * `/proc/self/mountinfo`, parsed: where the cgroup hierarchies are mounted (cgroups.ts) and
 * whether a workspace is already a mount point (workspace-volume.ts).
 */
import { readFileSync } from 'node:fs';

export interface MountEntry {
  /** The directory of the mounted filesystem that appears at `mountPoint` (`/` usually). */
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

/** The kernel escapes space, tab, newline and backslash as octal (`\040`). */
const unescape = (field: string) => field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));

export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash < 6 || fields.length < dash + 4) continue;
    entries.push({ root: unescape(fields[3]!), mountPoint: unescape(fields[4]!), fsType: fields[dash + 1]!, superOptions: fields[dash + 3]!.split(',') });
  }
  return entries;
}

export function readMountinfo(): MountEntry[] {
  return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
}

export function isMountPoint(dir: string, mounts: MountEntry[] = readMountinfo()): boolean {
  return mounts.some((entry) => entry.mountPoint === dir);
}
