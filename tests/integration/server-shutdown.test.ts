// The real server (src/server/app/serve.ts, the built site) with a warm pool of one REAL embedded
// cluster: SIGTERM must delete that cluster before the process exits. serve.ts exits on its own
// after closing terminals; if it does not wait for the pool, the clusters outlive it, and once a
// test's temporary data dir (the pool's owner file) is gone nothing ever reaps them.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { processesUnder } from '../../src/server/cluster/host-census.ts';
import { freePort } from './hostile/real-server.ts';

const root = join(import.meta.dirname, '../..');

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'irlab-shutdown-it-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('the server on SIGTERM', () => {
  it('deletes its warm pool clusters before it exits', async () => {
    expect(existsSync(join(root, 'dist/server/entry.mjs')), 'the site is not built: run `npm run build` first').toBe(true);
    const kwokWork = join(work, 'kwok');
    const server = spawn(process.execPath, [join(root, 'src/server/app/serve.ts')], {
      cwd: root,
      env: { ...process.env, PORT: String(await freePort()), HOST: '127.0.0.1', IRLAB_DATA_DIR: join(work, 'data'), KWOK_WORKDIR: kwokWork, IRLAB_WARM_POOL_SIZE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    try {
      const ready = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no pool cluster within 150 s; server said:\n${output.join('\n')}`)), 150_000);
        for (const stream of [server.stdout, server.stderr]) {
          createInterface({ input: stream }).on('line', (line) => {
            output.push(line);
            const match = /warm pool: (\S+) ready in/.exec(line);
            if (match) {
              clearTimeout(timer);
              resolve(match[1]!);
            }
          });
        }
        server.once('exit', () => reject(new Error(`the server exited early:\n${output.join('\n')}`)));
      });
      expect(await readdir(join(kwokWork, 'clusters'))).toContain(ready);
      expect(processesUnder(kwokWork).length).toBeGreaterThan(0);

      server.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 60_000))]);
      expect(code, output.join('\n')).toBe(0);
      expect(processesUnder(kwokWork).map((p) => p.command)).toEqual([]);
      expect(await readdir(join(kwokWork, 'clusters')).catch(() => [])).toEqual([]);
    } finally {
      if (server.exitCode === null) server.kill('SIGKILL');
    }
  }, 240_000);
});
