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

  it('reports a broken quiz with file, line, path, reason and fix', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'irlab-cli-'));
    try {
      await mkdir(path.join(root, 'quizzes'), { recursive: true });
      await writeFile(
        path.join(root, 'quizzes/broken.yaml'),
        [
          'title: A broken quiz',
          'lesson: nowhere',
          'questions:',
          '  - id: q1',
          '    type: single',
          '    section: intro',
          '    prompt: Which option is right here?',
          '    options: [{ id: a, text: A }, { id: b, text: B }]',
          '    correct: c',
          '    explanation: The key names an option that does not exist.',
          '  - id: q1',
          '    type: text',
          '    section: intro',
          '    prompt: Type anything at all here.',
          '    accept: [x]',
          '    explanation: A second question with the same id as the first.',
          '',
        ].join('\n'),
      );
      const failure = (await run(process.execPath, [bin, 'validate', root]).catch((e: unknown) => e)) as { code: number; stderr: string };
      expect(failure.code).toBe(1);
      expect(failure.stderr).toContain('quizzes/broken.yaml');
      expect(failure.stderr).toMatch(/9:14\s+questions\[0\]\.correct: "c" is not the id of any option\n\s+fix: use one of "a", "b"/);
      expect(failure.stderr).toMatch(/11:9\s+questions\[1\]\.id: duplicate question id "q1"/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('exits 0 on the project itself', async () => {
    const { stdout } = await run(process.execPath, [bin, 'validate']);
    expect(stdout).toMatch(/checked 1 lessons, 1 scenarios, 1 quizzes, 1 labs, 1 drills: all valid/);
  });

  it('explains an unknown command', async () => {
    const failure = (await run(process.execPath, [bin, 'frobnicate']).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(failure.code).toBe(2);
    expect(failure.stderr).toContain('unknown command "frobnicate"');
  });
});
