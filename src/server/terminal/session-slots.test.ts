// Issue 18: the lab page's second terminal. A learner has two shell slots on the same cluster;
// each slot is reused, replaced ("fresh", a lab reset) and ended on its own, and both shells run
// as one uid (their workspace's files have one owner) that is freed only with the last of them.
// The manager runs for real (budgets, records, kubeconfigs); the PTY is `cat`.
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { shellLimitsFromEnv } from './cgroups.ts';
import { spawnNodePty } from './node-pty-spawn.ts';
import type { SandboxCommand } from './sandbox.ts';
import type { SandboxHost } from './sandbox-host.ts';
import { SlotRefusedError, TerminalManager, type TerminalSlot } from './session-manager.ts';

const asRoot = process.getuid?.() === 0;
const KUBECONFIG = `apiVersion: v1
kind: Config
current-context: lab
contexts: [{name: lab, context: {cluster: lab, user: admin}}]
clusters: [{name: lab, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: admin, user: {token: t}}]
`;

let root: string;
let claimsDir: string;
let commands: SandboxCommand[];
let labCluster: string | undefined;
let manager: TerminalManager;

function newManager(uids: boolean): TerminalManager {
  const learner = asRoot ? { uid: 999, gid: 995 } : { uid: process.getuid!(), gid: process.getgid!() };
  const host: SandboxHost = {
    bwrapPath: '/usr/bin/bwrap',
    setprivPath: '/usr/bin/setpriv',
    kubectlPath: null,
    identity: asRoot ? { mode: 'setpriv', ...learner } : { mode: 'userns', ...learner },
    etcDir: path.join(root, 'etc'),
    seccompPath: null,
    network: 'host',
    budgets: { uids: uids ? { range: { first: 410_000, last: 410_050 }, claimsDir } : null, cgroups: null, limits: shellLimitsFromEnv({}), workspaceBytes: null, problems: [] },
  };
  return new TerminalManager({
    dataDir: path.join(root, 'data'),
    host,
    spawnPty: (command, size) => {
      commands.push(command);
      return spawnNodePty({ file: '/bin/cat', args: [], env: { PATH: '/usr/bin:/bin' } }, size);
    },
    leaseCluster: async () => (labCluster ? { name: labCluster, kubeconfigPath: path.join(root, 'kubeconfig'), release: async () => {} } : null),
    wantedCluster: async () => labCluster,
  });
}

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'irlab-slots-'));
  claimsDir = path.join(root, 'claims');
  mkdirSync(claimsDir, { mode: 0o700 });
  writeFileSync(path.join(root, 'kubeconfig'), KUBECONFIG);
  commands = [];
  labCluster = 'lab-one';
  manager = newManager(false);
});

afterEach(async () => {
  await manager.shutdown();
  rmSync(root, { recursive: true, force: true });
});

const open = (owner: string, slot: TerminalSlot) => manager.open(owner, { cols: 80, rows: 24 }, { slot });

describe('a learner’s two terminal slots', () => {
  it('gives each slot its own shell on the same cluster, and reuses each', async () => {
    const [first, second] = await Promise.all([open('ada', 1), open('ada', 2)]);
    expect(first.id).not.toBe(second.id);
    expect([first.slot, second.slot]).toEqual([1, 2]);
    expect([first.lease?.name, second.lease?.name]).toEqual(['lab-one', 'lab-one']);
    expect((await open('ada', 1)).id).toBe(first.id);
    expect((await open('ada', 2)).id).toBe(second.id);
    expect(manager.size).toBe(2);
  });

  it('refuses a third slot: at most two live shells per learner', async () => {
    await expect(manager.open('ada', undefined, { slot: 3 as TerminalSlot })).rejects.toThrow(/slot 3 must be one of 1, 2/);
    expect(manager.size).toBe(0);
  });

  it('ends one slot without touching the other', async () => {
    const first = await open('ada', 1);
    const second = await open('ada', 2);
    await manager.close(second.id);
    expect(manager.get(first.id)).toBe(first);
    const again = await open('ada', 2);
    expect(again.id).not.toBe(second.id);
    expect((await open('ada', 1)).id).toBe(first.id);
  });

  it('after a lab reset replaces a slot’s shell when that slot reconnects, not the other', async () => {
    const first = await open('ada', 1);
    const second = await open('ada', 2);
    labCluster = 'lab-two';
    const renewed = await open('ada', 1);
    expect(renewed.id).not.toBe(first.id);
    expect(renewed.lease?.name).toBe('lab-two');
    expect(manager.get(second.id)).toBe(second); // until its own terminal reconnects
    const renewedSecond = await open('ada', 2);
    expect(renewedSecond.id).not.toBe(second.id);
    expect(renewedSecond.lease?.name).toBe('lab-two');
    expect(manager.size).toBe(2);
  });

  it('refuses a second shell without a lab: it would not share the first one’s cluster', async () => {
    labCluster = undefined;
    await open('ada', 1);
    await expect(open('ada', 2)).rejects.toBeInstanceOf(SlotRefusedError);
  });

  it('keeps other learners and drills apart', async () => {
    const ada = await open('ada', 1);
    const bea = await open('bea', 1);
    const drill = await manager.open('drill_x_p1', undefined, { lease: async () => null, group: 'drill:x' });
    expect(new Set([ada.id, bea.id, drill.id]).size).toBe(3);
    expect(drill.slot).toBe(1);
  });
});

describe.runIf(asRoot)('the uid of a learner’s two shells', () => {
  const uidOf = (command: SandboxCommand) => command.args.find((arg) => arg.startsWith('--reuid='));

  it('is one uid, owning the workspace, freed only when the last shell ends', async () => {
    await manager.shutdown();
    manager = newManager(true);
    const first = await open('ada', 1);
    const second = await open('ada', 2);
    expect(uidOf(commands[0]!)).toBeDefined();
    expect(uidOf(commands[1]!)).toBe(uidOf(commands[0]!));
    const uid = Number(uidOf(commands[0]!)!.split('=')[1]);
    expect(statSync(manager.workspaceDir('ada')).uid).toBe(uid);
    const claim = path.join(claimsDir, String(uid));
    expect(existsSync(claim)).toBe(true);

    await manager.close(first.id);
    expect(existsSync(claim), 'the second shell still runs as the uid').toBe(true);
    expect(statSync(manager.workspaceDir('ada')).uid).toBe(uid);
    // A new first shell joins the uid the second one holds.
    await open('ada', 1);
    expect(uidOf(commands[2]!)).toBe(uidOf(commands[0]!));

    await manager.close(second.id);
    expect(existsSync(claim)).toBe(true);
    await manager.shutdown();
    expect(existsSync(claim), 'freed with the last shell').toBe(false);
  });

  it('is a different uid for another learner', async () => {
    await manager.shutdown();
    manager = newManager(true);
    await open('ada', 1);
    await open('bea', 1);
    expect(uidOf(commands[1]!)).not.toBe(uidOf(commands[0]!));
  });
});
