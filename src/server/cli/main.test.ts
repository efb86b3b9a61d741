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
    expect(stdout).toMatch(/checked \d+ lessons, \d+ scenarios, \d+ quizzes, \d+ labs, \d+ drills: all valid/);
    expect(stdout).not.toMatch(/ 0 (lessons|scenarios|quizzes|labs|drills)/);
  });

  it('explains an unknown command', async () => {
    const failure = (await run(process.execPath, [bin, 'frobnicate']).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(failure.code).toBe(2);
    expect(failure.stderr).toContain('unknown command "frobnicate"');
  });
});

/** Runs the binary; resolves with the exit code instead of rejecting. */
async function irlab(args: string[], cwd = process.cwd(), nodeArgs: string[] = []) {
  return run(process.execPath, [...nodeArgs, bin, ...args], { cwd }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

describe('irlab validate PATH', () => {
  it('checks one lab file, lesson, quiz, scenario or drill against the project, and counts only it', { timeout: 120_000 }, async () => {
    const cases: [string, RegExp][] = [
      ['labs/l18/lab.yaml', /^checked 1 lab at labs\/l18\/lab\.yaml: all valid$/],
      ['labs/l18', /^checked 1 lab at labs\/l18: all valid$/],
      ['quizzes/l18.yaml', /^checked 1 quiz at quizzes\/l18\.yaml: all valid$/],
      ['scenarios/compromised-web-app', /^checked 1 scenario, 1 drill at scenarios\/compromised-web-app: all valid$/],
      ['scenarios/compromised-web-app/drill.yaml', /^checked 1 drill at scenarios\/compromised-web-app\/drill\.yaml: all valid$/],
      ['src/content/lessons/l18-audit-logging-incident-response.mdx', /^checked 1 lesson at .*: all valid$/],
    ];
    for (const [target, expected] of cases) {
      const result = await irlab(['validate', target]);
      expect(result.code, `${target}: ${result.stderr}`).toBe(0);
      expect(result.stdout.trim(), target).toMatch(expected);
    }
  });

  it('exits 1 and says what it looked at when it found nothing to check', { timeout: 60_000 }, async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'irlab-cli-empty-'));
    try {
      const folder = await irlab(['validate', empty]);
      expect(folder.code).toBe(1);
      expect(folder.stderr).toContain(`found no content to check at ${empty}`);
      expect(folder.stderr).toContain('labs (labs/<slug>/lab.yaml)');
      const notContent = await irlab(['validate', 'scenarios/compromised-web-app/pod-logs.txt']);
      expect(notContent.code).toBe(1);
      expect(notContent.stderr).toContain('found no content to check at scenarios/compromised-web-app/pod-logs.txt');
      const missing = await irlab(['validate', path.join(empty, 'nope.yaml')]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('does not exist');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('reports the problems of the file asked for, with references resolved against its project', { timeout: 60_000 }, async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'irlab-cli-lab-'));
    try {
      await mkdir(path.join(root, 'labs/broken'), { recursive: true });
      await mkdir(path.join(root, 'labs/other'), { recursive: true });
      await writeFile(path.join(root, 'labs/broken/lab.yaml'), 'title: Broken\nlesson: no-such-lesson\nscenario: nowhere\nsteps: []\n');
      await writeFile(path.join(root, 'labs/other/lab.yaml'), 'not: [valid\n');
      const result = await irlab(['validate', 'labs/broken/lab.yaml'], root);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('labs/broken/lab.yaml');
      expect(result.stderr).not.toContain('labs/other');
      expect(result.stderr).toMatch(/checked 1 lab at labs\/broken\/lab\.yaml: invalid/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('what a command loads', () => {
  const fixture = path.resolve('src/server/cli/loaded-modules.fixture.mjs');
  async function loaded(args: string[]) {
    const result = await irlab(args, process.cwd(), ['--import', fixture]);
    const [, list = ''] = result.stderr.split('--- loaded modules ---\n');
    return { ...result, modules: list.trim().split('\n') };
  }

  it('help loads main and the usage text, nothing of any command', { timeout: 60_000 }, async () => {
    const { code, modules } = await loaded(['help']);
    expect(code).toBe(0);
    const ours = modules.filter((m) => m.includes('/src/'));
    expect(ours.map((m) => m.replace(/^.*\/src\//, 'src/'))).toEqual(['src/server/cli/main.ts', 'src/server/cli/usage.ts']);
    expect(modules.filter((m) => m.includes('node_modules'))).toEqual([]);
  });

  it('validate of one lab and policy eval leave the Kubernetes client and the cluster code alone', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'irlab-cli-policy-'));
    try {
      const policy = path.join(dir, 'policy.yaml');
      await writeFile(policy, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Metadata\n');
      for (const args of [['validate', 'labs/l18/lab.yaml'], ['policy', 'eval', policy, '--verb', 'get', '--resource', 'pods']]) {
        const { code, modules, stderr } = await loaded(args);
        expect(code, stderr).toBe(0);
        expect(modules.filter((m) => /@kubernetes|undici|\/src\/server\/cluster\/(?!types|find-cluster)/.test(m)), args.join(' ')).toEqual([]);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});


describe('a command that fails', () => {
  it('exits 1 with what failed and no stack trace of our files', async () => {
    // `schema` writing under a regular file fails whatever the user (root too): an error from deep inside a command.
    const failure = await run('/usr/bin/env', ['node', bin, 'schema', '/etc/hostname/irlab-schemas']).catch((error: unknown) => error);
    const { code, stderr } = failure as { code: number; stderr: string };
    expect(code).toBe(1);
    expect(stderr).toMatch(/^irlab schema: ENOTDIR.*irlab-schemas/m);
    expect(stderr).toContain('IRLAB_DEBUG=1');
    expect(stderr).not.toMatch(/at .*\.ts:\d+/);
  }, 60_000);

  it('adds the hint an error carries, and the stack when asked', async () => {
    const { failureReport } = await import('./main.ts');
    const error = Object.assign(new Error('step "start control plane" failed: boom'), { hint: 'The cluster was removed again; fix the cause and retry.' });
    expect(failureReport('test', error, false)).toBe('irlab test: step "start control plane" failed: boom\nThe cluster was removed again; fix the cause and retry.\n(IRLAB_DEBUG=1 shows where it failed)');
    expect(failureReport('test', error, true)).toContain('main.test.ts');
  });
});
