// `irlab test` interrupted (an author's Ctrl-C, CI's timeout) while it creates and seeds a REAL
// embedded cluster: it must delete what it made before it exits, leaving no process or directory.

import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { processesUnder } from '../../src/server/cluster/host-census.ts';

const root = join(import.meta.dirname, '../..');
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'irlab-interrupt-it-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const clusterDirs = (kwok: string) => readdir(join(kwok, 'clusters')).catch(() => [] as string[]);

describe('irlab test, interrupted', () => {
  it('deletes the cluster it was creating or testing on SIGTERM, and exits 130', async () => {
    const kwok = join(work, 'kwok');
    // Its own temp dir: what the run leaves there (kwokctl's input, the lab test's workspace) is its.
    const tmp = join(work, 'tmp');
    await mkdir(tmp);
    const child = spawn(process.execPath, [join(root, 'bin/irlab.mjs'), 'test', 'l18'], {
      cwd: root,
      env: { ...process.env, KWOK_WORKDIR: kwok, IRLAB_DATA_DIR: join(work, 'data'), TMPDIR: tmp },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      // Interrupt once the cluster's components run (mid-create or mid-test). The command itself
      // names the work dir in its environment; the components name their cluster's dir in argv.
      // Only the long-lived ones count: short-lived helpers (version probes, the pod sandbox's
      // stage) also name the dir and may be gone by the next look.
      const components = async () => {
        const [name] = await clusterDirs(kwok);
        return name ? processesUnder(kwok).filter((p) => p.command.includes(join(kwok, 'clusters', name)) && /\b(etcd|kube-apiserver)\b/.test(p.command)) : [];
      };
      // Seen on two polls in a row: kwokctl also runs these binaries for a moment to ask their
      // version, and such a process can be gone by the next look (a flake seen here).
      const deadline = Date.now() + 120_000;
      let seen = 0;
      while (seen < 2 && Date.now() < deadline && child.exitCode === null) {
        seen = (await components()).length > 0 ? seen + 1 : 0;
        if (seen < 2) await new Promise((r) => setTimeout(r, 200));
      }
      expect((await components()).length, `exit ${child.exitCode} ${child.signalCode}: ${output}`).toBeGreaterThan(0);
      expect(await clusterDirs(kwok)).toHaveLength(1);

      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 60_000))]);
      expect(code, output).toBe(130);
      expect(output).toMatch(/SIGTERM: deleting 1 cluster\(s\) of this run/);
      expect(processesUnder(kwok).map((p) => p.command).filter((c) => c.includes(join(kwok, 'clusters')))).toEqual([]);
      expect(await clusterDirs(kwok)).toEqual([]);
      // Temp dirs too: the process used to exit from the signal handler, before the `finally`
      // blocks that remove them had run (irlab-kwokctl-*, irlab-test-l18-* were left behind).
      // (Node keeps its compile cache there too: only ours count.)
      expect((await readdir(tmp)).filter((f) => f.startsWith('irlab-'))).toEqual([]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 240_000);
});
