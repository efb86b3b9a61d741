import { chownSync, lchownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeOutputFrame } from '../../lib/terminal-protocol.ts';
import { apiServerOf, startApiRelay } from './api-relay.ts';
import { parseAsciicast } from './asciicast.ts';
import { spawnNodePty } from './node-pty-spawn.ts';
import { prepareSandboxHost } from './sandbox-host.ts';
import { TerminalManager } from './session-manager.ts';
import type { TerminalConnection, TerminalSession } from './session.ts';

// Real bubblewrap, real PTY, real bash: what a learner's shell can and cannot reach.
const root = mkdtempSync(path.join(os.tmpdir(), 'irlab-sandbox-test-'));
const dataDir = path.join(root, 'data');
const answerKey = path.join(root, 'labs', 'l18', 'answer-key.yaml');
const database = path.join(dataDir, 'irlab.db');
const sourceFile = path.resolve('package.json');
let manager: TerminalManager;
const inputSeq = new Map<string, number>();

/** Runs one command line in `session` and returns what it printed (plain text) and its exit code. */
async function sh(session: TerminalSession, command: string): Promise<string> {
  let output = '';
  const tag = Math.random().toString(36).slice(2);
  const connection: TerminalConnection = {
    sendText: () => {},
    sendBinary: (frame) => (output += new TextDecoder().decode(decodeOutputFrame(frame)!.data)),
    close: () => {},
  };
  session.attach(connection, { t: 'hello', v: 1, clientId: 'sandbox-test', lastOutputSeq: Number.MAX_SAFE_INTEGER, cols: 200, rows: 50 });
  const seq = (inputSeq.get(session.id) ?? 0) + 1;
  inputSeq.set(session.id, seq);
  // The markers are split in the command so the echoed command line never contains them.
  const line = `echo "<<""${tag}"; ${command}; echo "${tag}"">>:$?"\r`;
  session.receive(connection, JSON.stringify({ t: 'input', seq, data: line }));
  const started = Date.now();
  const end = new RegExp(`${tag}>>:(\\d+)`);
  while (!end.test(output)) {
    if (Date.now() - started > 15_000) throw new Error(`no answer to ${command}; got ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  session.receive(connection, JSON.stringify({ t: 'ack', seq: 0xffffffff }));
  session.detach(connection);
  // eslint-disable-next-line no-control-regex
  const plain = output.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
  const body = plain.slice(plain.indexOf(`<<${tag}\n`) + tag.length + 3);
  return body.replace(end, `exit=$1`).split(`exit=`).map((part, i) => (i ? `exit=${part.split('\n')[0]}` : part)).join('');
}

describe('the terminal sandbox (bubblewrap)', { timeout: 30_000 }, () => {
  let alice: TerminalSession;

  beforeAll(async () => {
    mkdirSync(path.dirname(answerKey), { recursive: true });
    writeFileSync(answerKey, 'identity: system:serviceaccount:shop:builder\n');
    const host = prepareSandboxHost(dataDir);
    manager = new TerminalManager({ dataDir, host, spawnPty: spawnNodePty, leaseCluster: async () => null });
    writeFileSync(database, 'SQLite format 3\0 progress and scores');
    const bob = await manager.open('bob');
    await sh(bob, 'echo bobs-secret > notes.txt');
    alice = await manager.open('alice');
  }, 30_000);

  afterAll(async () => {
    await manager.shutdown();
  });

  it('runs as an unprivileged user in its own workspace', async () => {
    const out = await sh(alice, 'id -u; id -g; pwd; echo "home=$HOME"');
    const [uid, gid, cwd] = out.trim().split(/\r?\n/);
    expect(Number(uid)).not.toBe(0);
    expect(Number(gid)).not.toBe(0);
    expect(cwd).toBe('/home/learner');
    expect(out).toContain('home=/home/learner');
    expect(out).toMatch(/exit=0/);
  });

  it("cannot read another learner's workspace", async () => {
    const bobsNotes = path.join(manager.workspaceDir('bob'), 'notes.txt');
    expect(readFileSync(bobsNotes, 'utf8')).toBe('bobs-secret\n'); // it exists on the host
    const out = await sh(alice, `cat ${bobsNotes}; ls ${path.dirname(manager.workspaceDir('bob'))}; cat /home/*/notes.txt`);
    expect(out).not.toContain('bobs-secret');
    expect(out).toContain('No such file or directory');
  });

  it("cannot read irlab's database, data dir, source tree or answer keys", async () => {
    for (const target of [database, answerKey, sourceFile, path.join(dataDir, 'recordings'), path.join(dataDir, 'kubeconfigs'), '/root', process.cwd()]) {
      const out = await sh(alice, `cat ${target} || ls ${target}`);
      expect(out, target).toContain('No such file or directory');
      expect(out, target).toMatch(/exit=[1-9]/);
    }
  });

  it('cannot write outside its workspace (and /tmp, which is private)', async () => {
    for (const target of ['/usr/irlab-x', '/etc/irlab-x', '/opt/irlab/bin/irlab-x', '/home/irlab-x', '/irlab-x', '/proc/irlab-x', '/dev/irlab-x']) {
      const out = await sh(alice, `touch ${target}`);
      expect(out, target).toMatch(/exit=1/);
    }
    expect(await sh(alice, 'echo kept > mine.txt && cat mine.txt')).toContain('kept');
    expect(readFileSync(path.join(manager.workspaceDir('alice'), 'mine.txt'), 'utf8')).toBe('kept\n');
  });

  it('cannot see, kill or ptrace the server', async () => {
    const pid = process.pid;
    const out = await sh(alice, `ls /proc/${pid}/ >/dev/null; kill -9 ${pid}; kill -9 1`);
    expect(out).toContain(`/proc/${pid}/': No such file or directory`);
    expect(out).toMatch(/kill: \(\d+\) - (No such process|Operation not permitted)/);
    const processes = await sh(alice, 'ps -eo user,pid,comm --no-headers');
    expect(processes).not.toMatch(/\bnode\b/); // the irlab server is not in its PID namespace
    // ptrace is refused outright by seccomp, even on its own children.
    const trace = await sh(alice, 'strace -f true 2>&1 | head -n 2');
    expect(trace).toMatch(/Operation not permitted/);
    expect(process.kill(pid, 0)).toBe(true); // and the server is still here
  });

  it('cannot create namespaces or gain privileges', async () => {
    const out = await sh(alice, 'unshare -U true; unshare -n true; grep -E "^(CapEff|NoNewPrivs)" /proc/self/status');
    expect(out).toMatch(/unshare failed: Operation not permitted/);
    expect(out).toMatch(/CapEff:\s+0000000000000000/);
    expect(out).toMatch(/NoNewPrivs:\s+1/);
  });

  it('records the session as asciicast v2 with input, output and resize events', async () => {
    await sh(alice, 'echo "recorded-$((20+3))"');
    await new Promise((resolve) => setTimeout(resolve, 200)); // let the file stream flush
    const cast = parseAsciicast(readFileSync(manager.recordingPath(alice.id), 'utf8'));
    expect(cast.header).toMatchObject({ version: 2, width: 80, height: 24 });
    expect(cast.events.some(([, kind, data]) => kind === 'i' && data.includes('recorded-$((20+3))'))).toBe(true);
    expect(cast.events.some(([, kind, data]) => kind === 'o' && data.includes('recorded-23'))).toBe(true);
    expect(cast.events.some(([, kind, data]) => kind === 'r' && data === '200x50')).toBe(true);
    const times = cast.events.map(([t]) => t);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the kubeconfig in the shell', () => {
  it('works for kubectl, `config set-context` included, with ~/.kube/config planted as a link to a root-only file', { timeout: 30_000 }, async () => {
    const kubeconfig = path.join(root, 'lab-kubeconfig');
    writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\ncurrent-context: lab\ncontexts: [{name: lab, context: {cluster: lab, user: admin}}]\nclusters: [{name: lab, cluster: {server: "https://127.0.0.1:6443"}}]\nusers: [{name: admin, user: {token: abc}}]\n');
    const secret = path.join(root, 'root-only');
    writeFileSync(secret, 'root-only secret\n', { mode: 0o600 });
    const host = prepareSandboxHost(dataDir);
    const own = new TerminalManager({ dataDir, host, spawnPty: spawnNodePty, leaseCluster: async () => ({ name: 'lab', kubeconfigPath: kubeconfig, release: async () => {} }) });
    const workspace = own.workspaceDir('dora');
    mkdirSync(path.join(workspace, '.kube'), { recursive: true });
    symlinkSync(secret, path.join(workspace, '.kube', 'config'));
    if (host.identity.mode === 'setpriv') {
      for (const dir of [workspace, path.join(workspace, '.kube')]) chownSync(dir, host.identity.uid, host.identity.gid);
      lchownSync(path.join(workspace, '.kube', 'config'), host.identity.uid, host.identity.gid);
    }
    const before = statSync(secret);
    try {
      const dora = await own.open('dora');
      const out = await sh(dora, 'echo "kc=$KUBECONFIG"; kubectl config current-context; kubectl config set-context --current --namespace=prod >/dev/null && echo "ns=$(kubectl config view --minify -o jsonpath="{..namespace}")"; cat ~/.kube/config');
      expect(out).toContain('kc=/run/irlab/kube/config');
      expect(out).toMatch(/^lab$/m);
      expect(out).toContain('ns=prod');
      expect(out).not.toContain('root-only secret');
    } finally {
      await own.shutdown();
    }
    const after = statSync(secret);
    expect(readFileSync(secret, 'utf8')).toBe('root-only secret\n');
    expect([after.uid, after.gid, after.mode]).toEqual([before.uid, before.gid, before.mode]);
  });
});

describe('the terminal network', () => {
  it("reaches nothing on the host's loopback: not irlab, not another learner's etcd or API server", { timeout: 30_000 }, async () => {
    const listener = net.createServer((socket) => socket.end('hello from the host\n'));
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as net.AddressInfo).port;
    const host = prepareSandboxHost(dataDir);
    const own = new TerminalManager({ dataDir, host, spawnPty: spawnNodePty, leaseCluster: async () => null });
    try {
      const carol = await own.open('carol');
      const out = await sh(carol, `cat < /dev/tcp/127.0.0.1/${port}`);
      expect(out).not.toContain('hello from the host');
      expect(out).toMatch(/Connection refused|Network is unreachable/);
    } finally {
      await own.shutdown();
      listener.close();
    }
  });

  it('the API relay carries bytes both ways to its one target', async () => {
    const echo = net.createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const target = { host: '127.0.0.1', port: (echo.address() as net.AddressInfo).port };
    const relay = await startApiRelay(path.join(root, 'relay.sock'), target, null);
    const client = net.connect(relay.socketPath);
    client.write('ping');
    const reply = await new Promise<string>((resolve) => client.once('data', (data) => resolve(data.toString())));
    expect(reply).toBe('ping');
    client.destroy();
    relay.close();
    echo.close();
    expect(apiServerOf('clusters: [{name: c, cluster: {server: "https://127.0.0.1:39443"}}]')).toEqual({ host: '127.0.0.1', port: 39443 });
  });
});
