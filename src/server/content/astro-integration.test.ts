import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { contentValidation, watchedDirOf } from './astro-integration.ts';

type SetupHook = (options: unknown) => Promise<void>;

// The hook Astro runs before every build and dev start: bad content must stop it with every
// problem listed.
describe('content validation integration', () => {
  async function runSetup(files: Record<string, string>, extra: Record<string, unknown> = {}) {
    const root = await mkdtemp(path.join(tmpdir(), 'irlab-astro-'));
    const dir = path.join(root, 'src/content/lessons');
    await mkdir(dir, { recursive: true });
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
    const infos: string[] = [];
    const errors: string[] = [];
    const hook = contentValidation().hooks['astro:config:setup'] as unknown as SetupHook;
    try {
      await hook({ config: { root: pathToFileURL(`${root}/`) }, logger: { info: (m: string) => infos.push(m), error: (m: string) => errors.push(m) }, ...extra });
      return { infos, errors };
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }

  it('fails the build naming every broken file and field at once', async () => {
    const error = await runSetup({
      'one.mdx': '---\ncode: L1\ntitle: Broken one\nsummary: too short\n---\n',
      'two.mdx': '---\ncode: L2\nlevel: expert\n---\n',
    }).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain('src/content/lessons/one.mdx');
    expect(message).toContain('src/content/lessons/two.mdx');
    expect(message).toMatch(/4:10\s+summary: needs at least 40 characters, has 9/);
    expect(message).toMatch(/3:8\s+level: "expert" is not allowed/);
  });

  it('lets valid content through', async () => {
    const { infos } = await runSetup({});
    expect(infos).toEqual(['content ok: 0 lessons, 0 scenarios, 0 quizzes, 0 labs, 0 drills']);
  });

  it('under astro dev, prints every problem instead of stopping, and adds the reload and services plugins', async () => {
    const plugins: unknown[] = [];
    const { errors } = await runSetup(
      { 'one.mdx': '---\ncode: L1\ntitle: Broken one\nsummary: too short\n---\n' },
      { command: 'dev', updateConfig: (config: { vite: { plugins: unknown[] } }) => plugins.push(...config.vite.plugins) },
    );
    expect(errors.join('\n')).toMatch(/content is invalid \(\d+ problems?\):[\s\S]*src\/content\/lessons\/one.mdx/);
    // The reload plugin, then the one that hands the dev server the composition root's services.
    expect(plugins).toMatchObject([{ name: 'irlab:content-reload', apply: 'serve' }, { name: 'irlab:dev-services', apply: 'serve' }]);
  });

  it('watches labs, scenarios and quizzes at the top of the project only', () => {
    expect(watchedDirOf('/p', '/p/labs/x/lab.yaml')).toBe('labs');
    expect(watchedDirOf('/p', '/p/scenarios/x/pod-files/tmp/a')).toBe('scenarios');
    expect(watchedDirOf('/p', '/p/quizzes/q.yaml')).toBe('quizzes');
    expect(watchedDirOf('/p', '/p/src/labs/x.ts')).toBeUndefined();
    expect(watchedDirOf('/p', '/other/labs/x/lab.yaml')).toBeUndefined();
  });
});
