import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { validateLessons, LESSONS_DIR } from './lessons.ts';
import { validateContent } from './validate.ts';
import { formatProblems } from './friendly-errors.ts';

const good = `---
code: L1
title: A good lesson
summary: A summary that is long enough to satisfy the schema's lower bound.
order: 1
estimatedMinutes: 20
level: beginner
objectives:
  - Explain what a good lesson looks like.
  - Write frontmatter that validates.
  - Read error messages that point at the field.
updated: 2026-11-27
---

## Body
`;

let root: string;
async function project(files: Record<string, string>) {
  root = await mkdtemp(path.join(tmpdir(), 'irlab-lessons-'));
  await mkdir(path.join(root, LESSONS_DIR), { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(root, LESSONS_DIR, name), text);
  return root;
}
afterEach(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('validateLessons', () => {
  it('accepts a well-formed lesson and derives its slug from the file name', async () => {
    const { lessons, problems } = await validateLessons(await project({ 'l1-good.mdx': good }));
    expect(problems).toEqual([]);
    expect(lessons.map((l) => l.slug)).toEqual(['l1-good']);
    expect(lessons[0]?.data.updated).toBeInstanceOf(Date);
  });

  it('reports every problem in every file at once, with file, line and field', async () => {
    const badLevel = good.replace('level: beginner', 'level: expert').replace('code: L1', 'code: L2').replace('order: 1', 'order: 2');
    const missingTitle = good.replace('title: A good lesson\n', '').replace('code: L1\n', '').replace('order: 1', 'order: 3');
    const typo = good.replace('summary:', 'sumary:').replace('code: L1', 'code: L4').replace('order: 1', 'order: 4');
    const { problems } = await validateLessons(
      await project({ 'a-bad-level.mdx': badLevel, 'b-missing.mdx': missingTitle, 'c-typo.md': typo, 'd-good.mdx': good.replace('order: 1', 'order: 9').replace('code: L1', 'code: L9') }),
    );
    const byFile = (name: string) => problems.filter((p) => p.file === `${LESSONS_DIR}/${name}`);

    expect(byFile('a-bad-level.mdx')).toMatchObject([{ path: 'level', line: 7, message: '"expert" is not allowed' }]);
    expect(byFile('a-bad-level.mdx')[0]?.hint).toContain('"intermediate"');

    const missing = byFile('b-missing.mdx');
    expect(missing.map((p) => p.path).sort()).toEqual(['code', 'title']);
    expect(missing.find((p) => p.path === 'title')?.message).toContain('missing required field "title"');

    const unknown = byFile('c-typo.md');
    expect(unknown.find((p) => p.path === 'sumary')).toMatchObject({ line: 4, message: 'unknown field "sumary"', hint: 'did you mean "summary"?' });
    expect(unknown.find((p) => p.path === 'summary')?.message).toContain('missing required field');

    expect(byFile('d-good.mdx')).toEqual([]);
    const report = formatProblems(problems);
    expect(report).toMatch(/^5 problems in 3 files:/);
    expect(report).toContain(`${LESSONS_DIR}/a-bad-level.mdx`);
    expect(report).toContain('fix: did you mean "summary"?');
  });

  it('points at nested fields and YAML syntax errors', async () => {
    const nested = good.replace('updated:', 'attack:\n  - { id: T99, name: Nope }\nupdated:');
    const broken = good.replace('order: 1', 'order: [1').replace('code: L1', 'code: L5');
    const { problems } = await validateLessons(await project({ 'nested.mdx': nested, 'broken.mdx': broken }));
    expect(problems.find((p) => p.file.endsWith('nested.mdx'))).toMatchObject({ path: 'attack[0].id', line: 13 });
    const syntax = problems.find((p) => p.file.endsWith('broken.mdx'));
    expect(syntax?.message).toMatch(/^YAML syntax/);
    expect(syntax?.line).toBeGreaterThan(1);
  });

  it('rejects duplicate codes and positions across files, and files without frontmatter', async () => {
    const { problems } = await validateLessons(await project({ 'one.mdx': good, 'two.mdx': good, 'three.md': '# no frontmatter' }));
    expect(problems.map((p) => `${path.basename(p.file)} ${p.path} ${p.message}`).sort()).toEqual([
      'three.md  no frontmatter',
      `two.mdx code "L1" is already used by ${LESSONS_DIR}/one.mdx`,
      `two.mdx order 1 is already used by ${LESSONS_DIR}/one.mdx`,
    ]);
  });
});

describe('the project content', () => {
  it('validates cleanly and includes lesson L18', async () => {
    const report = await validateContent(process.cwd());
    expect(formatProblems(report.problems)).toBe('');
    const { lessons } = await validateLessons(process.cwd());
    expect(lessons.map((l) => l.data.code)).toContain('L18');
  });
});
