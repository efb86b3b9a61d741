// lab.yaml's `engine`: optional (any), `kind` accepted, anything else reported like every other
// field: the file, the line, the path and the values it takes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentRootWith, type ContentRoot } from '../../../tests/unit/fixtures/content-root.ts';
import { validateLabs } from './labs.ts';

let content: ContentRoot;
const references = { lessons: ['l18-audit-logging-incident-response'], scenarios: ['compromised-web-app', 'leaked-ci-token', 'node-escape'] };

beforeAll(async () => {
  content = await contentRootWith({
    plain: { from: 'l18', append: '' },
    real: { from: 'l18', append: 'engine: kind\n' },
    wrong: { from: 'l18', append: 'engine: docker\n' },
  });
});
afterAll(() => content.remove());

describe('a lab\'s engine', () => {
  it('is `any` unless the lab asks for kind', async () => {
    const { labs, problems } = await validateLabs(content.root, references);
    expect(problems.filter((p) => !p.file.includes('wrong'))).toEqual([]);
    expect(Object.fromEntries(labs.map((l) => [l.slug, l.lab.engine]))).toEqual({ l18: 'any', 'leaked-ci-token': 'any', 'node-escape': 'kind', plain: 'any', real: 'kind' });
  });

  it('reports a bad value with the file, its line, the path and the values it takes', async () => {
    const { labs, problems } = await validateLabs(content.root, references);
    expect(labs.map((l) => l.slug)).not.toContain('wrong');
    const problem = problems.find((p) => p.file === 'labs/wrong/lab.yaml');
    expect(problem).toMatchObject({ path: 'engine', line: expect.any(Number) });
    expect(`${problem!.message} ${problem!.hint ?? ''}`).toMatch(/any.*kind/);
  });
});
