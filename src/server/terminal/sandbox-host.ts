/**
 * Finds what the sandbox needs on this machine (bwrap, setpriv, kubectl, the sandbox user) and
 * writes the files it binds (passwd/group/bashrc, the seccomp program) under the data dir.
 * Every problem comes back as a sentence saying what is missing and the command that fixes it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSeccompFilter } from './seccomp.ts';
import { sandboxEtcFiles, type SandboxIdentity, type SandboxSpec } from './sandbox.ts';
import { prepareShellBudgets, type ShellBudgets } from './shell-budget.ts';

/** The dedicated system user the shell runs as when irlab runs as root. */
export const SANDBOX_SYSTEM_USER = 'irlab-sandbox';
/** kubectl built by the cluster engine (issue 3) at its pinned Kubernetes version. */
export const ENGINE_KUBECTL = path.join(os.homedir(), '.cache/irlab/bin/v1.37.2/kubectl');
const FIX = 'run `bash scripts/ensure-system-packages.sh` as root (npm test and npm start do it for you)';

export interface SandboxHost {
  bwrapPath: string;
  setprivPath: string;
  kubectlPath: string | null;
  identity: SandboxIdentity;
  etcDir: string;
  seccompPath: string | null;
  network: 'isolated' | 'host';
  /** Per-session uids, cgroups and workspace size limit, as far as this host allows (shell-budget.ts). */
  budgets: ShellBudgets;
}

export class SandboxUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxUnavailableError';
  }
}

function lookupUser(name: string, passwd = '/etc/passwd'): { uid: number; gid: number } | null {
  if (!existsSync(passwd)) return null;
  for (const line of readFileSync(passwd, 'utf8').split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid && gid) return { uid: Number(uid), gid: Number(gid) };
  }
  return null;
}

function firstExisting(candidates: Array<string | undefined>): string | null {
  for (const candidate of candidates) if (candidate && existsSync(candidate)) return candidate;
  return null;
}

/** Who the shell runs as (see sandbox.ts for why). */
export function resolveIdentity(): SandboxIdentity {
  const uid = process.getuid?.() ?? 0;
  if (uid !== 0) return { mode: 'userns', uid, gid: process.getgid?.() ?? uid };
  const user = lookupUser(SANDBOX_SYSTEM_USER);
  if (!user) throw new SandboxUnavailableError(`The terminal's sandbox user ${SANDBOX_SYSTEM_USER} does not exist; ${FIX}.`);
  if (user.uid === 0 || user.gid === 0) throw new SandboxUnavailableError(`${SANDBOX_SYSTEM_USER} must not have uid or gid 0 (it has ${user.uid}:${user.gid}).`);
  return { mode: 'setpriv', ...user };
}

/**
 * Checks the machine and prepares `${dataDir}/sandbox`. Throws SandboxUnavailableError with a fix
 * when bubblewrap or the sandbox user is missing.
 */
export function prepareSandboxHost(dataDir: string, env: NodeJS.ProcessEnv = process.env): SandboxHost {
  const bwrapPath = firstExisting([env.IRLAB_BWRAP, '/usr/bin/bwrap']);
  if (!bwrapPath) throw new SandboxUnavailableError(`bubblewrap (/usr/bin/bwrap) is not installed; ${FIX}.`);
  const setprivPath = firstExisting(['/usr/bin/setpriv']) ?? '/usr/bin/setpriv';
  const identity = resolveIdentity();
  if (identity.mode === 'setpriv' && !existsSync(setprivPath)) throw new SandboxUnavailableError('setpriv (util-linux) is missing; install it with `apt-get install -y util-linux`.');
  const kubectlPath = firstExisting([env.IRLAB_KUBECTL, ENGINE_KUBECTL, '/usr/bin/kubectl']);
  // Isolation needs socat inside the sandbox; IRLAB_TERMINAL_NETWORK=host opts out on purpose.
  const network = env.IRLAB_TERMINAL_NETWORK === 'host' ? 'host' : 'isolated';
  if (network === 'isolated' && !existsSync('/usr/bin/socat')) throw new SandboxUnavailableError(`socat (/usr/bin/socat), the terminal's only way to its cluster, is not installed; ${FIX}.`);

  const dir = path.join(dataDir, 'sandbox');
  const etcDir = path.join(dir, 'etc');
  mkdirSync(etcDir, { recursive: true, mode: 0o700 });
  for (const [name, content] of Object.entries(sandboxEtcFiles(identity))) writeFileSync(path.join(etcDir, name), content, { mode: 0o644 });
  const filter = buildSeccompFilter();
  let seccompPath: string | null = null;
  if (filter) {
    seccompPath = path.join(dir, 'seccomp.bpf');
    writeFileSync(seccompPath, filter, { mode: 0o600 });
  }
  return { bwrapPath, setprivPath, kubectlPath, identity, etcDir, seccompPath, network, budgets: prepareShellBudgets(identity.mode, env) };
}

/** What a session's budget (shell-budget.ts) changes in its spec: its uid, its /etc, its cgroup. */
export interface SessionSandbox {
  identity: SandboxIdentity;
  etcDir: string | null;
  cgroupProcs: string[];
}

/** The SandboxSpec for one workspace on this host. */
export function specFor(host: SandboxHost, workspaceDir: string, kubeconfigPath: string | null, apiRelay: SandboxSpec['apiRelay'] = null, session?: SessionSandbox): SandboxSpec {
  return {
    workspaceDir,
    kubectlPath: host.kubectlPath,
    etcDir: session?.etcDir ?? host.etcDir,
    identity: session?.identity ?? host.identity,
    seccompPath: host.seccompPath,
    kubeconfigPath,
    bwrapPath: host.bwrapPath,
    setprivPath: host.setprivPath,
    tmpBytes: 256 * 1024 * 1024,
    network: host.network,
    apiRelay,
    cgroupProcs: session?.cgroupProcs ?? [],
  };
}
