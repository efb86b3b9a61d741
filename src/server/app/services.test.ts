import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { buildServices, type Services } from './services.ts';

const root = path.resolve(import.meta.dirname, '../../..');
let work: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'irlab-services-'));
  await mkdir(path.join(work, 'cache'));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function build(name: string): Promise<Services> {
  const config = loadConfig({ IRLAB_DATA_DIR: path.join(work, name), IRLAB_ROOT: root, IRLAB_CACHE: path.join(work, 'cache'), IRLAB_WARM_POOL_SIZE: '0', IRLAB_INSTRUCTOR_TOKEN: `token-${name}` }, root);
  return buildServices(config, { terminals: false, drillTimers: false, log: () => {}, error: () => {} });
}

describe('the composition root', () => {
  it('with IRLAB_DATABASE_URL keeps nothing in SQLite; a database it cannot reach fails the start without its password', async () => {
    const config = loadConfig({ IRLAB_DATA_DIR: path.join(work, 'pg'), IRLAB_ROOT: root, IRLAB_DATABASE_URL: 'postgres://irlab:top-secret@127.0.0.1:1/irlab' }, root);
    const refused = buildServices(config, { terminals: false, drillTimers: false, log: () => {}, error: () => {} });
    await expect(refused).rejects.toThrow(/^IRLAB_DATABASE_URL: the PostgreSQL database irlab at 127\.0\.0\.1:1 did not answer \(.*ECONNREFUSED.*\); check that it runs/);
    await expect(refused).rejects.not.toThrow(/top-secret/);
    expect(existsSync(path.join(work, 'pg', 'irlab.db'))).toBe(false);
  }, 90_000);

  it('builds independent sets: nothing is shared through module state or globalThis', async () => {
    const a = await build('a');
    const b = await build('b');
    try {
      expect(a.db).not.toBe(b.db);
      expect(a.limits).not.toBe(b.limits);
      expect(a.instructorToken).toBe('token-a');
      // One learner made in one set is unknown to the other (two databases, two services).
      const { token } = await a.learners.create();
      expect(await a.learners.fromSession(token)).toBeDefined();
      expect(await b.learners.fromSession(token)).toBeUndefined();
      // Content is read once per set, through the same validated loaders the CLI uses.
      expect((await a.catalog()).all().length).toBeGreaterThan(0);
      expect(await a.catalog()).toBe(await a.catalog());
      expect((await a.drills.scenarios()).length).toBeGreaterThan(0);
      expect(a.terminals).toBeNull();
      expect(Object.getOwnPropertySymbols(globalThis).map(String).filter((s) => s.includes('irlab'))).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
    await expect(a.db.get('SELECT 1 AS one')).rejects.toThrow();
    // Closing twice is one close.
    await a.close();
  });

  it('leaves no service singleton in the server, the pages or the middleware', () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (/\.(ts|astro)$/.test(entry.name) && !entry.name.endsWith('.test.ts')) {
          const text = readFileSync(full, 'utf8');
          if (/\bglobalThis\b(?!\.(?:fetch|crypto|setTimeout|clearTimeout|structuredClone))/.test(text.replace(/\/\/.*|\/\*[\s\S]*?\*\//g, ''))) offenders.push(path.relative(root, full));
        }
      }
    };
    walk(path.join(root, 'src/server'));
    walk(path.join(root, 'src/pages'));
    expect(offenders).toEqual([]);
  });
});
