import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeJsonSchemas } from './json-schemas.ts';

describe('irlab schema', () => {
  it('keeps the committed schemas/ in step with the zod schemas', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'irlab-schemas-'));
    try {
      await writeJsonSchemas(dir);
      for (const name of await readdir(dir)) {
        const fresh = await readFile(path.join(dir, name), 'utf8');
        const committed = await readFile(path.join('schemas', name), 'utf8').catch(() => '');
        expect(committed, `schemas/${name} is stale: run "npx irlab schema"`).toBe(fresh);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('describes scenario fields an editor can complete', async () => {
    const scenario = JSON.parse(await readFile('schemas/scenario.schema.json', 'utf8')) as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(scenario.properties)).toEqual(expect.arrayContaining(['identities', 'world', 'timeline', 'compromisedPod', 'params']));
    expect(scenario.required).toEqual(expect.arrayContaining(['title', 'world', 'timeline']));
  });
});
