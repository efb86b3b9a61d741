/**
 * What one learner shell may consume, and the per-session pieces that enforce it: a host uid of
 * its own (uid-claims.ts), a cgroup with pids/memory/CPU limits (cgroups.ts) and a size-limited
 * workspace filesystem (workspace-volume.ts). `prepareShellBudgets` decides once per server what
 * this host allows; `startShellBudget` sets a session up before its shell starts and hands back
 * `release`, which ends every process of the session before the uid can go to anyone else.
 *
 * A learner's second shell (the lab page's second terminal) shares the first one's uid and /etc
 * files (`sibling`): both work in one workspace, whose files one uid owns, and the uid is freed
 * (and every process of it killed) only when the last of them ends. Each shell keeps its own
 * cgroup, so the per-shell limits apply to each.
 *
 * Without root (the `userns` sandbox) there is no uid to allocate or volume to mount, and cgroups
 * are used only where the hierarchy is writable; `problems` says what is off, for the server to
 * log once.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { prepareCgroups, ShellCgroup, shellLimitsFromEnv, type CgroupHost, type ShellLimits } from './cgroups.ts';
import { sandboxEtcFiles, type SandboxIdentity } from './sandbox.ts';
import { claimUid, DEFAULT_UID_CLAIMS_DIR, parseUidRange, prepareClaimsDir, processesOfUid, type UidClaim, type UidRange } from './uid-claims.ts';
import { chownWorkspace, workspaceBytesFromEnv, workspaceVolumeProblem, type WorkspaceVolumes } from './workspace-volume.ts';

export interface ShellBudgets {
  /** Per-session uids (irlab as root), or null: every shell keeps the host identity. */
  uids: { range: UidRange; claimsDir: string } | null;
  cgroups: CgroupHost | null;
  limits: ShellLimits;
  /** The workspace filesystem's size, or null: workspaces are plain directories, unbounded. */
  workspaceBytes: number | null;
  /** What is not enforced on this host and why (logged once at start). */
  problems: string[];
}

/**
 * Env: IRLAB_SANDBOX_UIDS (200000-299999), IRLAB_UID_CLAIMS_DIR (/run/irlab/uids),
 * IRLAB_SHELL_CGROUPS (`auto`; `off`), IRLAB_SHELL_PIDS_MAX, IRLAB_SHELL_MEMORY_MB,
 * IRLAB_SHELL_CPU_WEIGHT, IRLAB_WORKSPACE_MB (256; 0 = no limit).
 */
export function prepareShellBudgets(mode: SandboxIdentity['mode'], env: NodeJS.ProcessEnv = process.env): ShellBudgets {
  const problems: string[] = [];
  const limits = shellLimitsFromEnv(env);
  let uids: ShellBudgets['uids'] = null;
  if (mode === 'setpriv') {
    uids = { range: parseUidRange(env.IRLAB_SANDBOX_UIDS), claimsDir: env.IRLAB_UID_CLAIMS_DIR || DEFAULT_UID_CLAIMS_DIR };
    prepareClaimsDir(uids.claimsDir);
  } else {
    problems.push('every shell runs as the server\'s own uid (irlab is not root, so no uid of its own per session)');
  }
  let cgroups: CgroupHost | null = null;
  if (env.IRLAB_SHELL_CGROUPS === 'off') problems.push('shells have no cgroup: IRLAB_SHELL_CGROUPS=off (no pids, memory or CPU limit)');
  else {
    const found = prepareCgroups();
    if ('host' in found) cgroups = found.host;
    else problems.push(`shells have no cgroup, so no pids, memory or CPU limit: ${found.problem}`);
  }
  let workspaceBytes: number | null = workspaceBytesFromEnv(env) || null;
  const volumeProblem = workspaceBytes ? workspaceVolumeProblem() : 'IRLAB_WORKSPACE_MB=0';
  if (volumeProblem) {
    workspaceBytes = null;
    problems.push(`workspaces have no size limit: ${volumeProblem}`);
  }
  return { uids, cgroups, limits, workspaceBytes, problems };
}

export interface ShellBudget {
  identity: SandboxIdentity;
  /** passwd/group/bashrc naming this session's uid; null: the host's (userns mode). */
  etcDir: string | null;
  cgroup: ShellCgroup | null;
  /** Ends every process of the session, removes its cgroup, then frees its uid. Idempotent; false when a process survived (uid and cgroup kept). */
  release(): Promise<boolean>;
  /** The uid this budget holds, shared with a sibling shell of the same learner (null: none claimed). */
  readonly uid: UidHold | null;
}

/** One claimed uid and the shells that run as it; freed when the last one is released. */
export interface UidHold {
  readonly claim: UidClaim;
  /** passwd/group/bashrc naming the uid (written by the first shell). */
  etcDir: string;
  holders: number;
}

export interface StartShellBudget {
  budgets: ShellBudgets;
  /** The server's identity (userns mode: the shell's too; setpriv: the legacy shared sandbox user). */
  hostIdentity: SandboxIdentity;
  volumes: WorkspaceVolumes | null;
  owner: string;
  sessionId: string;
  workspace: string;
  /** Where per-session /etc files go. */
  sessionsDir: string;
  /** How long the shell gets to exit after its hang-up before everything is killed. */
  graceMs?: number;
  signal?: AbortSignal;
  /** A live shell of the same learner: its uid is shared rather than a new one claimed (see above). */
  sibling?: ShellBudget;
}

/** kill(-1, SIGKILL) as `uid`: every process of that uid at once, forks in flight included. */
export async function killEverythingOf(uid: number, gid: number): Promise<void> {
  await new Promise<void>((resolve) => {
    const killer = spawn('/bin/bash', ['-c', 'kill -KILL -1'], { uid, gid, stdio: 'ignore', env: {} });
    killer.once('error', () => resolve());
    killer.once('exit', () => resolve());
  });
}

export async function startShellBudget(options: StartShellBudget): Promise<ShellBudget> {
  const { budgets, volumes, workspace } = options;
  // Taken synchronously, before any await: a sibling released meanwhile must not free the uid under us.
  let hold: UidHold | null = options.sibling?.uid ?? null;
  if (hold) hold.holders++;
  let cgroup: ShellCgroup | null = null;
  const identity = (): SandboxIdentity => (hold ? { mode: 'setpriv', uid: hold.claim.uid, gid: hold.claim.gid } : options.hostIdentity);

  let released: Promise<boolean> | null = null;
  const release = () => (released ??= (async () => {
    const uid = hold?.claim.uid;
    // Without a cgroup, the processes of this shell are told apart from its sibling's only by uid:
    // they are waited for and killed once the last shell of the uid ends.
    const last = !hold || hold.holders <= 1;
    const alive = () => (cgroup ? cgroup.processes().length > 0 : last && uid !== undefined && processesOfUid(uid).length > 0);
    // The shell had its SIGHUP (bash saves its history); give it the grace period, then kill.
    const deadline = Date.now() + (options.graceMs ?? 2_000);
    while (alive() && Date.now() < deadline) await sleep(25);
    for (let round = 0; round < 50 && alive(); round++) {
      if (hold && last) await killEverythingOf(hold.claim.uid, hold.claim.gid);
      cgroup?.kill();
      await sleep(20);
    }
    const leftovers = cgroup ? cgroup.processes() : last && uid !== undefined ? processesOfUid(uid) : [];
    if (leftovers.length) {
      // Keep the uid claimed (and the cgroup): giving it to another learner would hand these over too.
      console.error(`irlab terminal: session ${options.sessionId}'s processes ${leftovers.join(' ')} survived SIGKILL; keeping its uid ${uid} and cgroup`);
      return false;
    }
    await cgroup?.remove().catch((error: unknown) => console.error(`irlab terminal: ${(error as Error).message}`));
    if (hold && --hold.holders === 0) {
      // The sibling's processes, if it had no cgroup, end with the uid's last shell.
      if (!last || !cgroup) {
        for (let round = 0; round < 50 && processesOfUid(hold.claim.uid).length > 0; round++) {
          await killEverythingOf(hold.claim.uid, hold.claim.gid);
          await sleep(20);
        }
      }
      if (hold.etcDir) rmSync(hold.etcDir, { recursive: true, force: true });
      hold.claim.release();
    }
    return true;
  })());

  try {
    if (budgets.uids && !hold) {
      const claim = claimUid(budgets.uids.claimsDir, budgets.uids.range);
      hold = { claim, etcDir: '', holders: 1 };
    }
    if (volumes) await volumes.mount(options.owner, workspace, options.signal);
    else mkdirSync(workspace, { recursive: true, mode: 0o700 });
    if (hold && !hold.etcDir) {
      const { first, last } = budgets.uids!.range;
      const legacy = options.hostIdentity.uid;
      await chownWorkspace(workspace, hold.claim.uid, hold.claim.gid, (uid) => (uid >= first && uid <= last) || uid === legacy);
      const etcDir = path.join(options.sessionsDir, String(hold.claim.uid));
      rmSync(etcDir, { recursive: true, force: true });
      mkdirSync(etcDir, { recursive: true, mode: 0o755 });
      for (const [name, content] of Object.entries(sandboxEtcFiles(identity()))) writeFileSync(path.join(etcDir, name), content, { mode: 0o644 });
      hold.etcDir = etcDir;
    }
    if (budgets.cgroups) cgroup = ShellCgroup.create(budgets.cgroups, options.sessionId, budgets.limits);
  } catch (error) {
    await release();
    throw error;
  }
  return { identity: identity(), etcDir: hold?.etcDir || null, cgroup, release, uid: hold };
}
