// Issue 15, finding 4: `ln -s <a root-owned file> ~/.kube/config`, then a fresh terminal, made the
// server write the kubeconfig through the link and chown the target to the sandbox user. The
// manager runs for real here (kubeconfig flattening, files, ownership); the PTY is `cat`, since
// what the shell does with the file is the sandbox test's business (sandbox.test.ts).
import { chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { shellLimitsFromEnv } from './cgroups.ts';
import { spawnNodePty } from './node-pty-spawn.ts';
import type { SandboxCommand } from './sandbox.ts';
import type { SandboxHost } from './sandbox-host.ts';
import { TerminalManager } from './session-manager.ts';

const asRoot = process.getuid?.() === 0;
const learner = asRoot ? { uid: 999, gid: 995 } : { uid: process.getuid!(), gid: process.getgid!() };
const SECRET = 'root-only: the instructor token\n';
const KUBECONFIG = `apiVersion: v1
kind: Config
current-context: lab
contexts: [{name: lab, context: {cluster: lab, user: admin}}]
clusters: [{name: lab, cluster: {server: "https://127.0.0.1:6443", certificate-authority-data: Y2E=}}]
users: [{name: admin, user: {client-certificate-data: Y2VydA==, client-key-data: a2V5}}]
`;

let root: string;
let dataDir: string;
let secretDir: string;
let secretFile: string;
let commands: SandboxCommand[];
let manager: TerminalManager;

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'irlab-kubeconfig-'));
  dataDir = path.join(root, 'data');
  secretDir = path.join(root, 'secret');
  mkdirSync(secretDir, { mode: 0o700 });
  secretFile = path.join(secretDir, 'instructor-token');
  writeFileSync(secretFile, SECRET, { mode: 0o600 });
  writeFileSync(path.join(root, 'kubeconfig'), KUBECONFIG);
  commands = [];
  const host: SandboxHost = {
    bwrapPath: '/usr/bin/bwrap',
    setprivPath: '/usr/bin/setpriv',
    kubectlPath: null,
    identity: asRoot ? { mode: 'setpriv', ...learner } : { mode: 'userns', ...learner },
    etcDir: path.join(root, 'etc'),
    seccompPath: null,
    network: 'host',
    // No per-session uid, cgroup or volume: what is tested here is where the kubeconfig goes.
    budgets: { uids: null, cgroups: null, limits: shellLimitsFromEnv({}), workspaceBytes: null, problems: [] },
  };
  manager = new TerminalManager({
    dataDir,
    host,
    spawnPty: (command, size) => {
      commands.push(command);
      return spawnNodePty({ file: '/bin/cat', args: [], env: { PATH: '/usr/bin:/bin' } }, size);
    },
    leaseCluster: async () => ({ name: 'lab', kubeconfigPath: path.join(root, 'kubeconfig'), release: async () => {} }),
  });
});

afterEach(async () => {
  await manager.shutdown();
  rmSync(root, { recursive: true, force: true });
});

/** A learner's workspace as an earlier session left it: theirs, with whatever they planted. */
function workspace(owner: string): string {
  const dir = manager.workspaceDir(owner);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chownSync(dir, learner.uid, learner.gid);
  return dir;
}

const snapshot = (file: string) => {
  const info = statSync(file);
  return { uid: info.uid, gid: info.gid, mode: info.mode, content: info.isFile() ? readFileSync(file, 'utf8') : readdirSync(file).sort().join(',') };
};

/** Where the shell's KUBECONFIG points, and the host file bound there. */
function kubeconfigOf(command: SandboxCommand): { inside: string; host: string } {
  const args = command.args;
  const env = args.findIndex((arg, i) => arg === '--setenv' && args[i + 1] === 'KUBECONFIG');
  expect(env, 'the shell has a KUBECONFIG').toBeGreaterThan(-1);
  const inside = args[env + 2]!;
  const bind = args.findIndex((arg, i) => arg === '--bind' && args[i + 2] === inside);
  expect(bind, `${inside} is bound from a host file`).toBeGreaterThan(-1);
  return { inside, host: args[bind + 1]! };
}

describe('the kubeconfig a new terminal gets', () => {
  it.each([
    ['~/.kube/config is a symlink to a root-owned file', (ws: string) => (mkdirSync(path.join(ws, '.kube')), symlinkSync(secretFile, path.join(ws, '.kube', 'config')))],
    ['~/.kube is a symlink to a root-owned directory', (ws: string) => symlinkSync(secretDir, path.join(ws, '.kube'))],
  ])('%s: the target is untouched and the shell still gets its kubeconfig', async (_name, plant) => {
    const ws = workspace('ada');
    plant(ws);
    const before = { file: snapshot(secretFile), dir: snapshot(secretDir) };

    const session = await manager.open('ada');

    expect({ file: snapshot(secretFile), dir: snapshot(secretDir) }).toEqual(before);
    expect(lstatSync(path.join(ws, '.kube')).isSymbolicLink() || lstatSync(path.join(ws, '.kube', 'config')).isSymbolicLink()).toBe(true);
    const { inside, host } = kubeconfigOf(commands[0]!);
    expect(inside.startsWith('/home/')).toBe(false); // not a path the learner can pre-arrange
    expect(path.relative(ws, host).startsWith('..')).toBe(true); // nowhere in the workspace
    expect(readFileSync(host, 'utf8')).toContain('server: https://127.0.0.1:6443');
    expect(readFileSync(host, 'utf8')).toContain('client-key-data: a2V5');
    const file = statSync(host);
    expect({ uid: file.uid, gid: file.gid, mode: file.mode & 0o777 }).toEqual({ ...learner, mode: 0o600 });
    const dir = statSync(path.dirname(host));
    expect(dir.mode & 0o077).toBe(0); // only the server traverses it
    expect(dir.uid).toBe(process.getuid!());

    await manager.close(session.id);
    expect(existsSync(host)).toBe(false);
    expect(snapshot(secretFile)).toEqual(before.file);
  });

  it('gives each session its own file, even for the same learner', async () => {
    workspace('bea');
    const first = await manager.open('bea');
    const firstFile = kubeconfigOf(commands[0]!).host;
    await manager.close(first.id);
    await manager.open('bea');
    const second = kubeconfigOf(commands[1]!).host;
    expect(second).not.toBe(firstFile);
    expect(existsSync(second)).toBe(true);
    expect(existsSync(firstFile)).toBe(false);
  });
});
