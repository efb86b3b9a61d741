/**
 * A cgroup per learner shell: a pids limit (a fork bomb stops there), a memory limit with no swap
 * beyond it (a hog is OOM-killed inside its own group), and an equal CPU weight (a busy shell
 * gets one share, however many processes it runs). Both hierarchies are supported: cgroup v1
 * (one mount per controller, as on this project's machines) and v2 (the unified hierarchy).
 *
 * Groups nest under irlab's own cgroup (from /proc/self/cgroup), in `<own>/irlab/<pid>-<session>`,
 * so limits set on irlab by the operator (systemd, a container) also bound its shells. The leaf
 * name starts with the server's pid: a later server removes the empty leaves of dead ones.
 * The shell joins its group before it can fork: sandbox.ts's launcher writes its own pid into
 * every `cgroup.procs` before it execs bwrap.
 *
 * v2 forbids processes in a group whose controllers are delegated to children: if irlab's own
 * group holds processes, irlab moves itself into `<own>/irlab-server` first (under systemd, give
 * the unit `Delegate=yes`). Without root or a writable hierarchy, shells run without a cgroup and
 * the server says so once at start (docs/terminal.md).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readMountinfo, type MountEntry } from './mountinfo.ts';

export interface ShellLimits {
  /** Processes and threads in the shell's group. */
  pidsMax: number;
  /** Memory (RSS, page cache, tmpfs, kernel memory) of the group; no swap beyond it. */
  memoryBytes: number;
  /** CPU weight on the v2 scale (1–10000, 100 = everyone's equal share); v1 shares = weight × 1024 / 100. */
  cpuWeight: number;
}

export const DEFAULT_SHELL_LIMITS: ShellLimits = { pidsMax: 256, memoryBytes: 512 * 1024 * 1024, cpuWeight: 100 };

function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) throw new Error(`${name}=${JSON.stringify(text)} must be a whole number from 1 to ${max}`);
  return value;
}

/** IRLAB_SHELL_PIDS_MAX (256), IRLAB_SHELL_MEMORY_MB (512), IRLAB_SHELL_CPU_WEIGHT (100). */
export function shellLimitsFromEnv(env: NodeJS.ProcessEnv): ShellLimits {
  return {
    pidsMax: positiveInteger(env, 'IRLAB_SHELL_PIDS_MAX', DEFAULT_SHELL_LIMITS.pidsMax, 4_194_304),
    memoryBytes: positiveInteger(env, 'IRLAB_SHELL_MEMORY_MB', DEFAULT_SHELL_LIMITS.memoryBytes / 1024 / 1024, 1 << 30) * 1024 * 1024,
    cpuWeight: positiveInteger(env, 'IRLAB_SHELL_CPU_WEIGHT', DEFAULT_SHELL_LIMITS.cpuWeight, 10_000),
  };
}

const CONTROLLERS = ['pids', 'memory', 'cpu'] as const;

export type Controller = (typeof CONTROLLERS)[number];

export interface CgroupHost {
  version: 1 | 2;
  /** Where shell groups are created, per controller (v2: the same directory for all three). */
  parents: Record<Controller, string>;
}

/** The knob files of one shell group and what goes in them, in order (v1 needs memory before memsw). */
export function knobsFor(version: 1 | 2, limits: ShellLimits): Array<{ controller: Controller; file: string; value: string; optional?: boolean }> {
  if (version === 1) {
    return [
      { controller: 'pids', file: 'pids.max', value: String(limits.pidsMax) },
      { controller: 'memory', file: 'memory.limit_in_bytes', value: String(limits.memoryBytes) },
      // memory+swap equal to memory: no swap on top (the file exists only with swap accounting).
      { controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: String(limits.memoryBytes), optional: true },
      { controller: 'cpu', file: 'cpu.shares', value: String(Math.max(2, Math.round((limits.cpuWeight * 1024) / 100))) },
    ];
  }
  return [
    { controller: 'pids', file: 'pids.max', value: String(limits.pidsMax) },
    { controller: 'memory', file: 'memory.max', value: String(limits.memoryBytes) },
    { controller: 'memory', file: 'memory.swap.max', value: '0', optional: true },
    { controller: 'cpu', file: 'cpu.weight', value: String(limits.cpuWeight) },
  ];
}

/** Our own group per hierarchy, from /proc/self/cgroup (`id:controllers:path`). */
function ownPaths(selfCgroup: string): Map<string, string> {
  const paths = new Map<string, string>();
  for (const line of selfCgroup.split('\n')) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!match) continue;
    if (match[1] === '') paths.set('', match[2]!);
    for (const controller of match[1]!.split(',')) if (controller) paths.set(controller, match[2]!);
  }
  return paths;
}

/** The directory of group `own` in a hierarchy mounted as `mount` (its root may be a subtree). */
function dirOf(mount: MountEntry, own: string): string | null {
  const root = mount.root === '/' ? '' : mount.root;
  if (own !== root && !own.startsWith(`${root}/`)) return null;
  return path.resolve(mount.mountPoint, `.${own.slice(root.length)}`);
}

const errorCode = (error: unknown) => (error as NodeJS.ErrnoException).code;
const pidAlive = (pid: number) => existsSync(`/proc/${pid}`);

/** Removes empty leaves left by servers that are gone (their name starts with the dead pid). */
function sweepStaleLeaves(parent: string): void {
  for (const name of readdirSync(parent)) {
    const pid = Number(/^(\d+)-/.exec(name)?.[1]);
    if (!pid || pid === process.pid || pidAlive(pid)) continue;
    try {
      rmdirSync(path.join(parent, name));
    } catch {
      // still has processes, or another server swept it first
    }
  }
}

function enableV2Controllers(own: string): void {
  const wanted = CONTROLLERS.map((c) => `+${c}`).join(' ');
  try {
    writeFileSync(path.join(own, 'cgroup.subtree_control'), wanted);
  } catch (error) {
    if (errorCode(error) !== 'EBUSY') throw error;
    // "No internal processes": irlab's own group holds processes, so it moves itself to a leaf.
    const leaf = path.join(own, 'irlab-server');
    mkdirSync(leaf, { recursive: true });
    writeFileSync(path.join(leaf, 'cgroup.procs'), String(process.pid));
    writeFileSync(path.join(own, 'cgroup.subtree_control'), wanted);
  }
}

/** Where the shell groups' parent goes, from mountinfo and /proc/self/cgroup (no file is touched). */
export function locateCgroups(mounts: MountEntry[], selfCgroup: string): { version: 1; dirs: Record<Controller, string> } | { version: 2; dir: string } | { problem: string } {
  const own = ownPaths(selfCgroup);
  const v1 = CONTROLLERS.map((controller) => {
    const mount = mounts.find((m) => m.fsType === 'cgroup' && m.superOptions.includes(controller));
    const group = own.get(controller);
    return mount && group !== undefined ? dirOf(mount, group) : null;
  });
  if (v1.every((dir) => dir !== null)) {
    const [pids, memory, cpu] = v1 as [string, string, string];
    return { version: 1, dirs: { pids, memory, cpu } };
  }
  const mount = mounts.find((m) => m.fsType === 'cgroup2');
  const group = own.get('');
  const dir = mount && group !== undefined ? dirOf(mount, group) : null;
  if (!dir) return { problem: 'no cgroup hierarchy has the pids, memory and cpu controllers (neither v1 mounts under /sys/fs/cgroup/<controller> nor a v2 mount)' };
  return { version: 2, dir };
}

/**
 * Finds the hierarchies, creates `<own>/irlab` and proves it can make a shell group there.
 * Returns why not (to log once) instead of throwing: shells then run without one.
 */
export function prepareCgroups(mounts: MountEntry[] = readMountinfo(), selfCgroup = readFileSync('/proc/self/cgroup', 'utf8')): { host: CgroupHost } | { problem: string } {
  const found = locateCgroups(mounts, selfCgroup);
  if ('problem' in found) return found;
  try {
    let host: CgroupHost;
    if (found.version === 1) {
      const [pids, memory, cpu] = CONTROLLERS.map((c) => path.join(found.dirs[c], 'irlab'));
      host = { version: 1, parents: { pids: pids!, memory: memory!, cpu: cpu! } };
      for (const parent of new Set(Object.values(host.parents))) mkdirSync(parent, { recursive: true });
    } else {
      const { dir } = found;
      const available = readFileSync(path.join(dir, 'cgroup.controllers'), 'utf8').split(/\s+/);
      const missing = CONTROLLERS.filter((c) => !available.includes(c));
      if (missing.length) return { problem: `irlab's cgroup ${dir} has no ${missing.join(', ')} controller (delegate them: systemd Delegate=yes, or run in the root cgroup)` };
      const enabled = readFileSync(path.join(dir, 'cgroup.subtree_control'), 'utf8').split(/\s+/);
      if (CONTROLLERS.some((c) => !enabled.includes(c))) enableV2Controllers(dir);
      const parent = path.join(dir, 'irlab');
      mkdirSync(parent, { recursive: true });
      writeFileSync(path.join(parent, 'cgroup.subtree_control'), CONTROLLERS.map((c) => `+${c}`).join(' '));
      host = { version: 2, parents: { pids: parent, memory: parent, cpu: parent } };
    }
    for (const parent of new Set(Object.values(host.parents))) sweepStaleLeaves(parent);
    // A probe group proves we may create groups and write limits, before any learner depends on it.
    const probe = ShellCgroup.create(host, 'probe', DEFAULT_SHELL_LIMITS);
    probe.removeNow();
    return { host };
  } catch (error) {
    return { problem: `cannot create cgroups (${(error as Error).message})` };
  }
}

export interface CgroupStats {
  pids: number;
  /** Forks refused at pids.max so far. */
  pidsRefused: number;
  memoryBytes: number;
  oomKills: number;
}

/** One shell's group (a directory per v1 controller, or one v2 directory). */
export class ShellCgroup {
  readonly version: 1 | 2;
  private readonly byController: Record<Controller, string>;
  /** The distinct directories not yet removed. */
  private readonly live: Set<string>;

  private constructor(version: 1 | 2, byController: Record<Controller, string>) {
    this.version = version;
    this.byController = byController;
    this.live = new Set();
  }

  /**
   * A group created earlier, by a server that is gone (orphan-reaper.ts), from its recorded
   * directories; only directories directly under this host's shell parents are taken.
   */
  static open(host: CgroupHost, byController: Record<Controller, string>): ShellCgroup | null {
    if (CONTROLLERS.some((c) => typeof byController[c] !== 'string' || path.dirname(byController[c]) !== host.parents[c])) return null;
    const group = new ShellCgroup(host.version, { ...byController });
    for (const dir of group.dirs) if (existsSync(dir)) group.live.add(dir);
    return group;
  }

  /** Where the group lives, per controller (recorded so a later server can find it). */
  get directories(): Record<Controller, string> {
    return { ...this.byController };
  }

  /** Creates the group `<pid>-<label>-<random>` under every parent and writes the limits. */
  static create(host: CgroupHost, label: string, limits: ShellLimits): ShellCgroup {
    const name = `${process.pid}-${label.replace(/[^\w-]/g, '_').slice(0, 40)}-${randomBytes(3).toString('hex')}`;
    const byController = Object.fromEntries(CONTROLLERS.map((c) => [c, path.join(host.parents[c], name)])) as Record<Controller, string>;
    const group = new ShellCgroup(host.version, byController);
    try {
      for (const dir of new Set(Object.values(byController))) {
        mkdirSync(dir);
        group.live.add(dir);
      }
      for (const knob of knobsFor(host.version, limits)) {
        const file = path.join(byController[knob.controller], knob.file);
        if (knob.optional && !existsSync(file)) continue;
        writeFileSync(file, knob.value);
      }
      return group;
    } catch (error) {
      group.removeNow();
      throw new Error(`creating the shell's cgroup ${name} failed: ${(error as Error).message}`, { cause: error });
    }
  }

  /** The group's directories (one per distinct hierarchy). */
  get dirs(): string[] {
    return [...new Set(Object.values(this.byController))];
  }

  /** The `cgroup.procs` files the launcher writes its pid into. */
  get procsFiles(): string[] {
    return this.dirs.map((dir) => path.join(dir, 'cgroup.procs'));
  }

  private read(controller: Controller, file: string): string {
    try {
      return readFileSync(path.join(this.byController[controller], file), 'utf8');
    } catch {
      return '';
    }
  }

  /** Pids in the group (every hierarchy: in v1 only root could move a process out of one). */
  processes(): number[] {
    const pids = new Set<number>();
    for (const file of this.procsFiles) {
      try {
        for (const line of readFileSync(file, 'utf8').split('\n')) if (line) pids.add(Number(line));
      } catch {
        // removed
      }
    }
    return [...pids];
  }

  stats(): CgroupStats {
    const field = (text: string, key: string) => Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    const memory = this.version === 1 ? this.read('memory', 'memory.usage_in_bytes') : this.read('memory', 'memory.current');
    const oom = this.version === 1 ? this.read('memory', 'memory.oom_control') : this.read('memory', 'memory.events');
    return {
      pids: Number(this.read('pids', 'pids.current')) || 0,
      pidsRefused: field(this.read('pids', 'pids.events'), 'max'),
      memoryBytes: Number(memory) || 0,
      oomKills: field(oom, 'oom_kill'),
    };
  }

  /** SIGKILLs everything in the group (v2: cgroup.kill; else until empty, pids.max bounds the forks). */
  kill(): void {
    const killFile = path.join(this.byController.pids, 'cgroup.kill');
    if (this.version === 2 && existsSync(killFile)) {
      writeFileSync(killFile, '1');
      return;
    }
    for (let round = 0; round < 20; round++) {
      const pids = this.processes();
      if (!pids.length) return;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // exited meanwhile
        }
      }
    }
  }

  /** Resolves true once the group holds no process, or false after `timeoutMs`. */
  async waitEmpty(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.processes().length) {
      if (Date.now() >= deadline) return false;
      await sleep(20);
    }
    return true;
  }

  /** Removes the (empty) group; the kernel may need a moment after the last exit. */
  async remove(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        this.removeNow();
        return;
      } catch (error) {
        if (attempt >= 50 || errorCode(error) !== 'EBUSY') throw new Error(`removing the shell's cgroup ${this.dirs.join(', ')} failed: ${(error as Error).message}`, { cause: error });
        await sleep(20);
      }
    }
  }

  removeNow(): void {
    for (const dir of [...this.live]) {
      try {
        rmdirSync(dir);
      } catch (error) {
        if (errorCode(error) !== 'ENOENT') throw error;
      }
      this.live.delete(dir);
    }
  }
}
