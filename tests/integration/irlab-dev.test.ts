// `irlab dev` for real: Astro's dev server on a copy of the project, a save under labs/ is
// validated (every problem printed, and announced on Vite's HMR socket), the browser is told to
// reload, and the lesson page then serves the edited lab.
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_CHECKED_EVENT } from '../../src/server/content/astro-integration.ts';

const repo = process.cwd();
const LESSON = '/lessons/l18-audit-logging-incident-response';
const LAB = 'labs/leaked-ci-token/lab.yaml';
const QUIZ = 'quizzes/leaked-ci-token.yaml';

let root: string;
let dev: ChildProcess;
let output = '';
let base: string;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; dev server said:\n${output.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Vite's HMR socket, as the page's client script opens it; collects every message. */
async function hmrSocket(url: string) {
  const messages: Array<{ type: string; event?: string; data?: { files: string[]; problems: number } }> = [];
  const socket = new WebSocket(url, 'vite-hmr');
  socket.onmessage = (message) => messages.push(JSON.parse(String(message.data)));
  await until('the HMR socket to connect', () => (messages.some((m) => m.type === 'connected') ? true : undefined));
  return { socket, messages };
}

const page = async (pathname: string) => (await fetch(`${base}${pathname}`)).text();

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'irlab-dev-'));
  for (const entry of ['src', 'public', 'labs', 'scenarios', 'quizzes', 'schemas', 'astro.config.ts', 'package.json', 'tsconfig.json']) {
    await cp(path.join(repo, entry), path.join(root, entry), { recursive: true });
  }
  await symlink(path.join(repo, 'node_modules'), path.join(root, 'node_modules'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  dev = spawn(process.execPath, [path.join(repo, 'bin/irlab.mjs'), 'dev', '--port', String(port), '--host', '127.0.0.1'], {
    cwd: root,
    // Astro's dev server changes course when it believes vitest runs it (VITEST*: no routes are
    // served); an author's shell has none of these.
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST'))), IRLAB_PROVIDER: 'embedded', IRLAB_DATA_DIR: path.join(root, '.irlab/data') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  dev.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  dev.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  await until('irlab dev to print its URL', () => (output.includes(`irlab dev: ${base}/`) ? true : undefined), 150_000);
}, 180_000);

afterAll(async () => {
  if (dev && dev.exitCode === null) {
    const exited = new Promise((r) => dev.once('exit', r));
    dev.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (dev.exitCode === null) dev.kill('SIGKILL');
  }
  await rm(root, { recursive: true, force: true });
}, 30_000);

describe('irlab dev', () => {
  it('validates a saved lab, announces it, reloads the browser and serves the change', async () => {
    expect(output).toContain('content ok: 1 lessons');
    // The first request compiles the page (and Vite may restart once to optimize dependencies).
    await until('the lesson page to list the lab', async () => ((await page(LESSON).catch(() => '')).includes('>Revoke a leaked CI token</a>') ? true : undefined), 90_000);
    const { socket, messages } = await hmrSocket(`${base.replace('http', 'ws')}/`);
    try {
      const file = path.join(root, LAB);
      const original = await readFile(file, 'utf8');
      await writeFile(file, original.replace('title: "Revoke a leaked CI token"', 'title: "Revoke the leaked deployer token"'));
      const checked = await until('the content check after the edit', () => messages.find((m) => m.event === CONTENT_CHECKED_EVENT));
      expect(checked.data).toEqual({ files: [LAB], problems: 0 });
      // Our reload follows our announcement.
      await until('a full reload', () => (messages.slice(messages.indexOf(checked)).some((m) => m.type === 'full-reload') ? true : undefined));
      await until('the lesson page to serve the edit', async () => ((await page(LESSON)).includes('>Revoke the leaked deployer token</a>') ? true : undefined), 30_000);

      // Broken saves in two files: every problem printed with file and a fix, announced with the
      // count, and still reloaded. (Both saves usually land in one validation; the last one counts.)
      const before = messages.length;
      const quiz = path.join(root, QUIZ);
      await writeFile(file, original.replace('checks: [token-revoked]', 'checks: [token-revokd]'));
      await writeFile(quiz, (await readFile(quiz, 'utf8')).replace('section: token-theft', 'section: token-thef'));
      await until('a content check that sees both problems', () =>
        messages.slice(before).find((m) => m.event === CONTENT_CHECKED_EVENT && m.data?.problems === 2),
      );
      await until('both problems printed', () => (output.includes('did you mean "token-revoked"') && output.includes('"token-thef" is not a heading anchor') ? true : undefined));
      expect(output).toContain('content is invalid (2 problems)');
      expect(output).toContain(LAB);
      expect(output).toContain(QUIZ);
    } finally {
      socket.close();
    }
  }, 120_000);
});
