// Issue 15, finding 2: a learner swapping files in their workspace while the server reads them.
// A real child process races the reads (as the sandbox user when the tests run as root, as the
// learner's shell would); the secret is a root-only file outside the workspace. Whatever the
// interleaving, its content must never come back in a read, a reason or a check's feedback.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, closeSync, constants, linkSync, openSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LabContext } from './check.ts';
import { auditPolicyCheck, POLICY_FILE } from './checks/audit-policy.ts';
import { readWorkspaceFile } from './workspace-files.ts';

const asRoot = process.getuid?.() === 0;
/** The uid the learner's files belong to: the sandbox user's when root can hand them over. */
function learnerIds(): { uid: number; gid: number } {
  if (!asRoot) return { uid: process.getuid!(), gid: process.getgid!() };
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('irlab-sandbox:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  return uid && gid ? { uid: Number(uid), gid: Number(gid) } : { uid: 65534, gid: 65534 };
}
const learner = learnerIds();

const GOOD_POLICY = 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n';

// The learner's side of the race, as plain JavaScript run by a second node process. Each mode
// flips one path between something harmless and something that leads to the secret, atomically
// (rename) where the kernel allows it, for as long as it lives.
const SWAPPER = `
const fs = require('node:fs');
const { mode, secret, secretDir, good } = process.env;
const target = mode === 'dir' ? 'evidence' : 'audit-policy.yaml';
let ready = false;
const announce = () => { if (!ready) { ready = true; process.stdout.write('ready\\n'); } };
if (mode === 'dir') { fs.mkdirSync('.real'); fs.writeFileSync('.real/f.txt', good); }
if (mode === 'fifo') require('node:child_process').execFileSync('mkfifo', ['.fifo']);
// The harmless state is a hard link to one prepared file: as quick to make as the other states.
fs.writeFileSync('.good', good);
const stopAt = Date.now() + 60_000;
while (Date.now() < stopAt) {
  if (mode === 'file') {
    fs.symlinkSync(secret, '.s'); fs.renameSync('.s', target);
    fs.linkSync('.good', '.r'); fs.renameSync('.r', target);
  } else if (mode === 'fifo') {
    fs.linkSync('.fifo', '.p'); fs.renameSync('.p', target);
    fs.linkSync('.good', '.r'); fs.renameSync('.r', target);
  } else {
    fs.renameSync('.real', target);
    announce();
    fs.renameSync(target, '.real'); fs.symlinkSync(secretDir, target); fs.unlinkSync(target);
  }
  announce();
}
`;

let root: string;
let workspace: string;
let secretDir: string;
let secretFile: string;
let secret: string;
let swapper: ChildProcess | undefined;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'irlab-race-'));
  // The secret: a root-only directory outside the workspace, like the data dir's token or a cluster's pki.
  secretDir = path.join(root, 'secret');
  await mkdir(secretDir, { mode: 0o700 });
  secret = `instructor-token-${randomBytes(24).toString('hex')}`;
  secretFile = path.join(secretDir, 'f.txt');
  await writeFile(secretFile, `${secret}\n`, { mode: 0o600 });
  workspace = path.join(root, 'workspace');
  await mkdir(workspace, { mode: 0o700 });
  if (asRoot) chownSync(workspace, learner.uid, learner.gid);
  await chmod(root, 0o755);
});

afterEach(async () => {
  swapper?.kill('SIGKILL');
  swapper = undefined;
  await rm(root, { recursive: true, force: true });
});

/** Starts the learner's swapper and resolves once it has flipped the path at least once. */
async function startSwapper(mode: 'file' | 'dir' | 'fifo'): Promise<void> {
  const child = spawn(process.execPath, ['-e', SWAPPER], {
    cwd: workspace,
    env: { mode, secret: secretFile, secretDir, good: GOOD_POLICY },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(asRoot ? { uid: learner.uid, gid: learner.gid } : {}),
  });
  swapper = child;
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the swapper exited (${code}) before it started: ${stderr}`)));
  });
}

function context(): LabContext {
  return { workspace, answers: {}, questions: [] } as unknown as LabContext;
}

/** Reads (and checks) until `count` tries or `ms` have passed; returns what it saw. */
async function race(relative: string, options: { count: number; ms: number; check?: boolean; perReadMs?: number }) {
  let ok = 0;
  let refused = 0;
  const deadline = Date.now() + options.ms;
  for (let i = 0; i < options.count && Date.now() < deadline; i++) {
    const reading = readWorkspaceFile(workspace, relative);
    const result = options.perReadMs === undefined
      ? await reading
      : await Promise.race([reading, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`read ${i} of ${relative} blocked for ${options.perReadMs} ms`)), options.perReadMs).unref())]);
    const seen = result.ok ? result.content.toString('utf8') : result.reason;
    expect(seen, `read ${i}`).not.toContain(secret);
    if (result.ok) {
      ok += 1;
      expect(seen).toBe(GOOD_POLICY);
    } else refused += 1;
    if (options.check && i % 2 === 0) {
      const checked = JSON.stringify(await auditPolicyCheck.run(context(), new AbortController().signal));
      expect(checked, `check ${i}`).not.toContain(secret);
    }
  }
  return { ok, refused };
}

describe('reading a learner\'s workspace while they race the server', { timeout: 40_000 }, () => {
  it('never follows a symlink to a root-only file swapped over audit-policy.yaml (reads and the audit-policy check)', async () => {
    await startSwapper('file');
    const seen = await race(POLICY_FILE, { count: 2_000, ms: 10_000, check: true });
    // Both states were met: the race really ran against the reads.
    expect(seen.ok).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  });

  it('never follows a directory component swapped for a symlink', async () => {
    await startSwapper('dir');
    const seen = await race('evidence/f.txt', { count: 2_000, ms: 10_000 });
    expect(seen.ok + seen.refused).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  });

  it('is not held up by a FIFO swapped in (the read neither blocks nor waits for a writer)', async () => {
    await startSwapper('fifo');
    try {
      const seen = await race(POLICY_FILE, { count: 500, ms: 10_000, perReadMs: 5_000 });
      expect(seen.refused).toBeGreaterThan(0);
    } finally {
      swapper?.kill('SIGKILL');
      // A read that did block (old code) waits in the thread pool: a writer end lets it go.
      for (let i = 0; i < 100; i++) {
        try {
          closeSync(openSync(path.join(workspace, '.fifo'), constants.O_WRONLY | constants.O_NONBLOCK));
        } catch {
          break;
        }
      }
    }
  });
});

describe('reading a learner\'s workspace', () => {
  it('reads a regular file the learner wrote', async () => {
    await writeFile(path.join(workspace, POLICY_FILE), GOOD_POLICY);
    if (asRoot) chownSync(path.join(workspace, POLICY_FILE), learner.uid, learner.gid);
    const read = await readWorkspaceFile(workspace, POLICY_FILE);
    expect(read.ok && read.content.toString()).toBe(GOOD_POLICY);
  });

  it('refuses a symlink, a symlinked directory, .. and a FIFO, and says why', async () => {
    await symlink(secretFile, path.join(workspace, POLICY_FILE));
    await symlink(secretDir, path.join(workspace, 'evidence'));
    spawnSync('mkfifo', [path.join(workspace, 'pipe')]);
    for (const [relative, reason] of [
      [POLICY_FILE, 'symbolic link'],
      ['evidence/f.txt', 'not a directory'],
      ['../secret/f.txt', 'outside the workspace'],
      ['pipe', 'not a regular file'],
      ['missing.yaml', 'missing'],
    ] as const) {
      const read = await readWorkspaceFile(workspace, relative);
      expect(read.ok, relative).toBe(false);
      expect(!read.ok && read.reason, relative).toContain(reason);
      expect(JSON.stringify(read)).not.toContain(secret);
    }
  });

  it.runIf(asRoot)('refuses a hard link to a file the learner does not own', async () => {
    linkSync(secretFile, path.join(workspace, POLICY_FILE));
    expect(statSync(path.join(workspace, POLICY_FILE)).uid).toBe(0);
    const read = await readWorkspaceFile(workspace, POLICY_FILE);
    expect(read.ok).toBe(false);
    expect(!read.ok && read.reason).toContain('not owned by');
    expect(JSON.stringify(await auditPolicyCheck.run(context(), new AbortController().signal))).not.toContain(secret);
  });

  it('refuses a file larger than the limit without reading it', async () => {
    await writeFile(path.join(workspace, 'big.txt'), Buffer.alloc(2048, 'a'));
    if (asRoot) chownSync(path.join(workspace, 'big.txt'), learner.uid, learner.gid);
    const read = await readWorkspaceFile(workspace, 'big.txt', { maxBytes: 1024 });
    expect(!read.ok && read.reason).toContain('larger than');
  });
});
