/**
 * The workspace size limit: each learner's workspace is a filesystem of its own, an ext4 image
 * (`$IRLAB_DATA_DIR/workspace-images/<learner>.ext4`, sparse: it takes only the disk its files
 * use) loop-mounted at `workspaces/<learner>` with nosuid,nodev. A write past the limit fails
 * with ENOSPC inside that filesystem and never fills the host's disk; deleting files gives the
 * space back to the host (`discard`). The image is on disk, so the workspace survives a restart
 * and a reboot; the mount is made when a session starts (or at server start, for every image)
 * and undone when the server stops. Needs root, loop devices and mkfs.ext4 (e2fsprogs).
 *
 * Also here: handing a workspace to a session's uid (chownWorkspace), which must never follow a
 * link the learner planted.
 */
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, type Stats } from 'node:fs';
import { lchown, lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { isMountPoint } from './mountinfo.ts';

const run = promisify(execFile);
const MKFS = '/usr/sbin/mkfs.ext4';

/** Why a volume cannot be made on this host, or null when it can. */
export function workspaceVolumeProblem(): string | null {
  if ((process.getuid?.() ?? 0) !== 0) return 'irlab is not running as root (mounting a filesystem per workspace needs it)';
  if (!existsSync(MKFS)) return `${MKFS} is missing (apt-get install -y e2fsprogs)`;
  if (!existsSync('/dev/loop-control')) return 'this host has no loop devices (/dev/loop-control)';
  return null;
}

/** `IRLAB_WORKSPACE_MB` (256); 0 turns the limit off. */
export function workspaceBytesFromEnv(env: NodeJS.ProcessEnv): number {
  const text = env.IRLAB_WORKSPACE_MB ?? '256';
  const mb = Number(text);
  if (!Number.isInteger(mb) || mb < 0 || (mb > 0 && mb < 16)) throw new Error(`IRLAB_WORKSPACE_MB=${JSON.stringify(text)} must be 0 (no limit) or a whole number of MiB, at least 16`);
  return mb * 1024 * 1024;
}

async function command(file: string, args: string[], what: string, signal?: AbortSignal): Promise<void> {
  try {
    await run(file, args, { timeout: 60_000, signal });
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    throw new Error(`${what} failed: ${(stderr || message).trim()}`, { cause: error });
  }
}

/** Undoes one workspace mount; never lazily (a lazily unmounted image mounted again would be two filesystems on one image). */
export async function unmountWorkspace(dir: string): Promise<void> {
  await command('umount', [dir], `unmounting ${dir}`);
}

/** Loop devices whose backing file is `image` (one left attached means its filesystem is still alive somewhere). */
export function loopDevicesOf(image: string): string[] {
  const devices: string[] = [];
  let names: string[];
  let resolved: string;
  try {
    resolved = realpathSync(image);
    names = readdirSync('/sys/block').filter((name) => name.startsWith('loop'));
  } catch {
    return devices;
  }
  for (const name of names) {
    try {
      const backing = readFileSync(`/sys/block/${name}/loop/backing_file`, 'utf8').trim();
      if (backing === image || backing === resolved) devices.push(`/dev/${name}`);
    } catch {
      // not attached
    }
  }
  return devices;
}

/** Where a server notes the mounts it makes before making them (shell-records.ts), for the reaper of a crash. */
export interface MountRecord {
  addMount(dir: string): void;
  removeMount(dir: string): void;
}

/** The workspace volumes this process mounted (so it can unmount them when it stops). */
export class WorkspaceVolumes {
  private readonly imagesDir: string;
  private readonly bytes: number;
  private readonly mounted = new Set<string>();
  private readonly record: MountRecord | null;

  constructor(imagesDir: string, bytes: number, record: MountRecord | null = null) {
    this.imagesDir = imagesDir;
    this.bytes = bytes;
    this.record = record;
  }

  imageOf(owner: string): string {
    return path.join(this.imagesDir, `${owner}.ext4`);
  }

  /**
   * Makes `dir` the mount point of `owner`'s volume, creating the image on first use (with the
   * files already in `dir`, from before the limit existed, copied in and then removed).
   */
  async mount(owner: string, dir: string, signal?: AbortSignal): Promise<void> {
    if (isMountPoint(dir)) {
      // Mounted by this server earlier, or by another live one (listed: no reaper unmounts it under us).
      this.record?.addMount(dir);
      return;
    }
    mkdirSync(this.imagesDir, { recursive: true, mode: 0o700 });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const image = this.imageOf(owner);
    const legacy = readdirSync(dir);
    if (!existsSync(image)) {
      const fresh = `${image}.new`;
      rmSync(fresh, { force: true });
      // -d copies the existing files in without following links; a shell of this learner is not running.
      const args = ['-q', '-F', '-m', '0', '-E', 'root_owner=0:0,nodiscard', ...(legacy.length ? ['-d', dir] : []), fresh, `${Math.floor(this.bytes / 1024)}k`];
      await command(MKFS, args, `creating the workspace filesystem for ${owner} (if its files exceed IRLAB_WORKSPACE_MB, raise it)`, signal);
      renameSync(fresh, image);
      for (const name of legacy) rmSync(path.join(dir, name), { recursive: true, force: true });
    }
    // An image still attached (its last filesystem being released) must not be mounted a second time.
    for (let wait = 0; loopDevicesOf(image).length > 0; wait++) {
      if (wait >= 250) throw new Error(`the workspace image of ${owner} (${image}) is still attached to ${loopDevicesOf(image).join(', ')}; a process outside irlab may hold its filesystem (find it with \`fuser -vm ${loopDevicesOf(image)[0]}\`)`);
      await sleep(20);
    }
    this.record?.addMount(dir);
    try {
      await command('mount', ['-t', 'ext4', '-o', 'loop,nosuid,nodev,discard,errors=remount-ro', image, dir], `mounting the workspace of ${owner}`, signal);
    } catch (error) {
      this.record?.removeMount(dir);
      throw error;
    }
    this.mounted.add(dir);
    rmSync(path.join(dir, 'lost+found'), { recursive: true, force: true });
  }

  /** Mounts every existing image (at server start, so checks see workspaces before a shell opens). */
  async mountAll(workspaceDir: (owner: string) => string, signal?: AbortSignal): Promise<string[]> {
    const problems: string[] = [];
    if (!existsSync(this.imagesDir)) return problems;
    for (const name of readdirSync(this.imagesDir)) {
      if (!name.endsWith('.ext4') || signal?.aborted) continue;
      const owner = name.slice(0, -'.ext4'.length);
      await this.mount(owner, workspaceDir(owner), signal).catch((error: unknown) => problems.push((error as Error).message));
    }
    return problems;
  }

  /** Unmounts what this process mounted; lazily if something still has a file open. */
  async unmountAll(): Promise<void> {
    for (const dir of this.mounted) {
      await command('umount', [dir], `unmounting ${dir}`).catch(() => command('umount', ['--lazy', dir], `unmounting ${dir}`).catch(() => undefined));
      this.mounted.delete(dir);
      this.record?.removeMount(dir);
    }
  }
}

/**
 * Gives the workspace to a session's uid. The directory itself is chowned; below it, only what a
 * sandbox uid owns (`isSandboxUid`) is re-chowned, each entry with lchown, never descending
 * through a link, so a link or hard link the learner planted cannot make root chown anything else.
 * No process of the learner runs meanwhile (the previous session's uid was killed before it was
 * released), so nothing moves under the walk.
 */
export async function chownWorkspace(dir: string, uid: number, gid: number, isSandboxUid: (uid: number) => boolean): Promise<number> {
  const top: Stats = lstatSync(dir);
  if (!top.isDirectory()) throw new Error(`the workspace ${dir} is not a directory`);
  await lchown(dir, uid, gid);
  let changed = 1;
  const walk = async (parent: string): Promise<void> => {
    for (const entry of await readdir(parent, { withFileTypes: true })) {
      const file = path.join(parent, entry.name);
      const stat = await lstat(file);
      if (!isSandboxUid(stat.uid) && stat.uid !== uid) continue;
      if (stat.uid !== uid || stat.gid !== gid) {
        await lchown(file, uid, gid);
        changed++;
      }
      if (stat.isDirectory()) await walk(file);
    }
  };
  await walk(dir);
  return changed;
}
