/**
 * The learner's shell runs inside Debian's bubblewrap. This module decides what the sandbox sees
 * and who it runs as, and turns that into one command line; it starts nothing itself.
 *
 * What the shell sees: /usr read-only (the host's programs and libraries), a handful of /etc files,
 * kubectl at /opt/irlab/bin, its own workspace at /home/learner (read-write, the only writable
 * place besides a private /tmp), a new /proc of its own PID namespace, a minimal /dev, and under
 * /run/irlab what the server hands the session (its kubeconfig, the API relay's socket). Nothing
 * else of the host: no /work (source tree, answer keys), no data dir (database, other
 * workspaces, recordings), no /root, no /sys, no host /run.
 *
 * Who it runs as: never root.
 * - irlab running as root: bwrap runs privileged (no user namespace), keeps only CAP_SETUID and
 *   CAP_SETGID for `setpriv`, which drops to the session's own host uid (uid-claims.ts: one per
 *   session, never shared) and clears every capability before bash starts. The shell is then a
 *   different host uid from the server and from every other shell, so even outside its PID
 *   namespace it could not signal or trace them, nor spend their process limits.
 * - irlab running as a normal user: bwrap makes an unprivileged user namespace; the shell keeps
 *   that user's uid (there is no other uid it may use) and relies on the PID namespace and seccomp.
 *
 * The network namespace is shared with the host on purpose: the learner's API server listens on
 * loopback. docs/terminal.md explains what that allows and how to close it.
 */
import { existsSync, lstatSync, readlinkSync } from 'node:fs';

/** Where things appear inside the sandbox. */
export const SANDBOX_HOME = '/home/learner';
export const SANDBOX_BIN = '/opt/irlab/bin';
/**
 * The session's kubeconfig: a server-owned file bound in read-write (so `kubectl config` works),
 * in a small tmpfs where kubectl can take its lock file. Never under the workspace: the learner
 * could pre-arrange that path, and the server would write through their symlink (issue 15).
 */
export const SANDBOX_KUBE_DIR = '/run/irlab/kube';
export const SANDBOX_KUBECONFIG = `${SANDBOX_KUBE_DIR}/config`;
export const SANDBOX_USER = 'learner';
export const SANDBOX_HOSTNAME = 'irlab';

/** Host /etc files a shell and kubectl need, bound read-only when they exist. */
const HOST_ETC_FILES = [
  '/etc/ld.so.cache',
  '/etc/localtime',
  '/etc/alternatives',
  '/etc/terminfo',
  '/etc/inputrc',
  '/etc/nsswitch.conf',
  '/etc/hosts',
  '/etc/bash_completion',
  '/etc/bash_completion.d',
];

export interface SandboxIdentity {
  /** `setpriv`: bwrap runs as root and drops to uid/gid; `userns`: unprivileged user namespace. */
  mode: 'setpriv' | 'userns';
  uid: number;
  gid: number;
}

export interface SandboxSpec {
  /** Host path of the learner's workspace: bound read-write at /home/learner. */
  workspaceDir: string;
  /** Host path of kubectl, bound read-only at /opt/irlab/bin/kubectl; null: no kubectl. */
  kubectlPath: string | null;
  /** Host directory holding passwd, group and bashrc for the sandbox (see writeSandboxEtc). */
  etcDir: string;
  identity: SandboxIdentity;
  /** A file with the seccomp BPF program (fd 3 of bwrap), or null to run without one. */
  seccompPath: string | null;
  /** Host path of this session's kubeconfig (server-owned, see SANDBOX_KUBECONFIG); null: none. */
  kubeconfigPath: string | null;
  bwrapPath: string;
  setprivPath: string;
  /** Size cap of the private /tmp, bytes. */
  tmpBytes: number;
  /**
   * `isolated`: a network namespace of its own whose only way out is the API relay (socat inside,
   * api-relay.ts outside); `host`: the host's network, loopback included (see docs/terminal.md).
   */
  network: 'isolated' | 'host';
  /** With `isolated`: the relay's Unix socket on the host, and the API server port to listen on. */
  apiRelay: { socketPath: string; port: number; host: string } | null;
  /** `cgroup.procs` files of the shell's own cgroup (cgroups.ts): joined before bwrap starts. */
  cgroupProcs?: string[];
}

/** Where the API relay's socket appears inside the sandbox. */
export const SANDBOX_API_SOCKET = '/run/irlab/apiserver.sock';

export interface SandboxCommand {
  file: string;
  args: string[];
  /** Environment of the launcher; the shell itself starts from a cleared environment. */
  env: Record<string, string>;
}

/** The host's / layout for /usr-merged systems (/bin -> usr/bin...), replayed inside. */
function rootLinks(): string[] {
  const args: string[] = [];
  for (const dir of ['/bin', '/lib', '/lib64', '/sbin', '/lib32', '/libx32']) {
    if (!existsSync(dir)) continue;
    const stat = lstatSync(dir);
    if (stat.isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir);
    else args.push('--ro-bind', dir, dir);
  }
  return args;
}

export function buildSandboxCommand(spec: SandboxSpec): SandboxCommand {
  const env: Record<string, string> = {
    HOME: SANDBOX_HOME,
    USER: SANDBOX_USER,
    LOGNAME: SANDBOX_USER,
    SHELL: '/bin/bash',
    TERM: 'xterm-256color',
    COLORTERM: 'truecolor',
    LANG: 'C.UTF-8',
    PATH: `${SANDBOX_BIN}:/usr/local/bin:/usr/bin:/bin`,
  };
  if (spec.kubeconfigPath) env.KUBECONFIG = SANDBOX_KUBECONFIG;

  const bwrap: string[] = [
    '--die-with-parent',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    ...(spec.network === 'isolated' ? ['--unshare-net'] : []),
    '--hostname',
    SANDBOX_HOSTNAME,
    '--clearenv',
    '--ro-bind',
    '/usr',
    '/usr',
    ...rootLinks(),
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    // bwrap makes new directories root-only by default; the shell runs as another user.
    '--perms',
    '1777',
    '--size',
    String(spec.tmpBytes),
    '--tmpfs',
    '/tmp',
    '--perms',
    '1777',
    '--dir',
    '/var/tmp',
    '--perms',
    '0755',
    '--dir',
    '/etc',
    '--perms',
    '0755',
    '--dir',
    '/home',
  ];
  for (const file of HOST_ETC_FILES) if (existsSync(file)) bwrap.push('--ro-bind', file, file);
  for (const name of ['passwd', 'group', 'bash.bashrc']) bwrap.push('--ro-bind', `${spec.etcDir}/${name}`, `/etc/${name}`);
  bwrap.push('--perms', '0755', '--dir', '/opt', '--perms', '0755', '--dir', '/opt/irlab', '--perms', '0755', '--dir', SANDBOX_BIN);
  if (spec.kubectlPath) bwrap.push('--ro-bind', spec.kubectlPath, `${SANDBOX_BIN}/kubectl`);
  const relay = spec.network === 'isolated' && spec.apiRelay;
  if (relay || spec.kubeconfigPath) bwrap.push('--perms', '0755', '--dir', '/run', '--perms', '0755', '--dir', '/run/irlab');
  if (relay) bwrap.push('--bind', relay.socketPath, SANDBOX_API_SOCKET);
  if (spec.kubeconfigPath) {
    bwrap.push('--perms', '1777', '--size', String(64 * 1024), '--tmpfs', SANDBOX_KUBE_DIR, '--bind', spec.kubeconfigPath, SANDBOX_KUBECONFIG);
  }
  bwrap.push('--bind', spec.workspaceDir, SANDBOX_HOME, '--chdir', SANDBOX_HOME);
  for (const [key, value] of Object.entries(env)) bwrap.push('--setenv', key, value);
  if (spec.seccompPath) bwrap.push('--seccomp', '3');

  let shell = ['/bin/bash', '--rcfile', '/etc/bash.bashrc', '-i'];
  if (spec.network === 'isolated' && spec.apiRelay) {
    // socat runs as the learner inside the sandbox; killing it only cuts their own kubectl off.
    const listen = `TCP-LISTEN:${spec.apiRelay.port},bind=${spec.apiRelay.host},reuseaddr,fork`;
    shell = ['/bin/sh', '-c', `/usr/bin/socat ${listen} UNIX-CONNECT:${SANDBOX_API_SOCKET} 2>/dev/null & exec ${shell.join(' ')}`];
  }
  if (spec.identity.mode === 'setpriv') {
    bwrap.push('--cap-add', 'CAP_SETUID', '--cap-add', 'CAP_SETGID', '--');
    bwrap.push(
      spec.setprivPath.startsWith('/usr/') ? spec.setprivPath : '/usr/bin/setpriv',
      `--reuid=${spec.identity.uid}`,
      `--regid=${spec.identity.gid}`,
      '--clear-groups',
      '--inh-caps=-all',
      '--bounding-set=-all',
      '--no-new-privs',
      '--',
      ...shell,
    );
  } else {
    bwrap.splice(0, 0, '--unshare-user', '--disable-userns', '--uid', String(spec.identity.uid), '--gid', String(spec.identity.gid));
    bwrap.push('--', ...shell);
  }

  // bwrap reads the filter from an inherited fd; a PTY spawn cannot pass extra fds, so a tiny
  // sh opens the file as fd 3 and execs bwrap (sh is gone before the shell runs). The same sh
  // first moves itself into the shell's cgroup: everything after it, bwrap included, starts there,
  // so no process of the shell ever runs outside its limits.
  const cgroupProcs = spec.cgroupProcs ?? [];
  if (spec.seccompPath || cgroupProcs.length) {
    const join = cgroupProcs.length ? `${JOIN_CGROUPS}; ` : '';
    const exec = spec.seccompPath ? 'exec "$0" "$@" 3<"$IRLAB_SECCOMP"' : 'exec "$0" "$@"';
    return {
      file: '/bin/sh',
      args: ['-c', `${join}${exec}`, spec.bwrapPath, ...bwrap],
      env: { ...(spec.seccompPath ? { IRLAB_SECCOMP: spec.seccompPath } : {}), ...(cgroupProcs.length ? { IRLAB_CGROUP_PROCS: cgroupProcs.join('\n') } : {}), PATH: '/usr/bin:/bin' },
    };
  }
  return { file: spec.bwrapPath, args: bwrap, env: { PATH: '/usr/bin:/bin' } };
}

/**
 * Writes the launcher's pid into each file of $IRLAB_CGROUP_PROCS (one a line); refuses to start
 * otherwise. Also makes the shell the first choice of an OOM outside its own group (the host's, or
 * irlab's own group's): a learner's processes go before the server or a cluster (the learner may
 * lower it to 0, the server's value, never below).
 */
const JOIN_CGROUPS = `IFS='
'; for f in $IRLAB_CGROUP_PROCS; do echo $$ > "$f" || { echo "irlab: the shell could not join its cgroup ($f)" >&2; exit 126; }; done; unset IFS; echo 500 > /proc/self/oom_score_adj`;

/** /etc files written for the sandbox (not the host's: they would list the host's users). */
export function sandboxEtcFiles(identity: SandboxIdentity): Record<string, string> {
  return {
    passwd: `root:x:0:0:root:/root:/usr/sbin/nologin\n${SANDBOX_USER}:x:${identity.uid}:${identity.gid}:irlab learner:${SANDBOX_HOME}:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`,
    group: `root:x:0:\n${SANDBOX_USER}:x:${identity.gid}:\nnogroup:x:65534:\n`,
    'bash.bashrc': [
      '# irlab: the learner shell. Your own settings go in ~/.bashrc.',
      "PS1='\\[\\e[1;32m\\]\\u@irlab\\[\\e[0m\\]:\\[\\e[1;34m\\]\\w\\[\\e[0m\\]\\$ '",
      'HISTFILE=~/.bash_history',
      "alias ls='ls --color=auto'",
      'alias k=kubectl',
      '[ -r /usr/share/bash-completion/bash_completion ] && . /usr/share/bash-completion/bash_completion',
      '[ -r ~/.bashrc ] && . ~/.bashrc',
      '',
    ].join('\n'),
  };
}
