import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = path.resolve('bin/irlab.mjs');

// Runs the real binary the way an instructor would, through the shell's (older) node: the shim
// must hand over to the pinned Node 24.
describe('irlab validate', () => {
  it('exits 1 and lists every broken file with its field', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'irlab-cli-'));
    try {
      const dir = path.join(root, 'src/content/lessons');
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, 'a.mdx'), '---\ncode: L1\ntitle: Fine title\n---\n');
      await writeFile(path.join(dir, 'b.mdx'), '---\ncode: X\n---\n');
      const failure = await run('/usr/bin/env', ['node', bin, 'validate', root]).catch((error: unknown) => error);
      const { code, stderr } = failure as { code: number; stderr: string };
      expect(code).toBe(1);
      expect(stderr).toContain('src/content/lessons/a.mdx');
      expect(stderr).toContain('src/content/lessons/b.mdx');
      expect(stderr).toContain('missing required field "summary"');
      expect(stderr).toMatch(/2:\d+\s+code: .*L followed by digits/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('exits 0 on the project itself', async () => {
    const { stdout } = await run(process.execPath, [bin, 'validate']);
    expect(stdout).toMatch(/checked 1 lessons, 1 quizzes: all valid/);
  });

  it('explains an unknown command', async () => {
    const failure = (await run(process.execPath, [bin, 'frobnicate']).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(failure.code).toBe(2);
    expect(failure.stderr).toContain('unknown command "frobnicate"');
  });
});
