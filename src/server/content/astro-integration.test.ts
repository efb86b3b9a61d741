import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { contentValidation } from './astro-integration.ts';

type SetupHook = (options: unknown) => Promise<void>;

// The hook Astro runs before every build and dev start: bad content must stop it with every
// problem listed.
describe('content validation integration', () => {
  async function runSetup(files: Record<string, string>) {
    const root = await mkdtemp(path.join(tmpdir(), 'irlab-astro-'));
    const dir = path.join(root, 'src/content/lessons');
    await mkdir(dir, { recursive: true });
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
    const infos: string[] = [];
    const hook = contentValidation().hooks['astro:config:setup'] as unknown as SetupHook;
    try {
      await hook({ config: { root: pathToFileURL(`${root}/`) }, logger: { info: (m: string) => infos.push(m) } });
      return { infos };
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
});
