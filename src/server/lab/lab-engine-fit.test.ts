// A `kind` lab on a server whose labs run on the embedded pool: shown with its engine, refused at
// Start with a 409 that says what, why and what to do, before any cluster is claimed, and never
// seeded ahead of time. The content root is a fixture (the project's content plus a copy of L18
// that asks for kind): the project ships no kind lab yet.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentRootWith, type ContentRoot } from '../../../tests/unit/fixtures/content-root.ts';
import { labEngineOn } from '../../lib/lab-engine.ts';
import { EmbeddedProvider } from '../cluster/embedded-provider.ts';
import { activityCatalog } from '../content/activity-catalog.ts';
import { learnerService } from '../learners/learners.ts';
import { allMigrations, openSqliteStore } from '../store/index.ts';
import { validateProjectLabs } from './labs.ts';
import { labService, workspaceUnder } from './service.ts';

let content: ContentRoot;
let work: string;
beforeAll(async () => {
  content = await contentRootWith({ 'l18-on-kind': { from: 'l18', append: 'engine: kind\n' } });
  work = await mkdtemp(path.join(tmpdir(), 'irlab-engine-fit-'));
});
afterAll(async () => {
  await content.remove();
  await rm(work, { recursive: true, force: true });
});

describe('a kind lab where labs run on the embedded engine', () => {
  it('is refused at Start with a 409 (what, why, what to do), claims no cluster and is never seeded ahead', async () => {
    const store = await openSqliteStore(path.join(work, 'irlab.db'), allMigrations);
    const acquired: string[] = [];
    const { labs, problems } = await validateProjectLabs(content.root);
    expect(problems).toEqual([]);
    const service = labService({
      db: store,
      root: content.root,
      labs: async () => labs,
      clusters: {
        provider: new EmbeddedProvider({ workDir: path.join(work, 'kwok') }),
        acquire: async () => {
          acquired.push('asked');
          throw new Error('this test starts no cluster');
        },
        release: async () => {},
        find: async () => undefined,
      },
      engine: labEngineOn('embedded'),
      workspaceOf: workspaceUnder(work),
      answerKeys: path.join(work, 'keys'),
      renderMarkdown: async (markdown) => markdown,
      preparedPerLab: 1,
    });
    try {
      const learner = (await learnerService({ store }).create()).learner.id;
      const view = await service.view(learner, 'l18-on-kind');
      expect(view.engine).toMatchObject({ engine: 'kind', badge: 'Needs kind', unavailable: { reason: expect.stringMatching(/this server runs labs on the embedded engine/) } });
      expect((await service.view(learner, 'l18')).engine).toMatchObject({ engine: 'embedded', badge: 'Embedded engine' });
      expect((await service.view(learner, 'l18')).engine.unavailable).toBeUndefined();

      const refused = (await service.start(learner, 'l18-on-kind').catch((e: unknown) => e)) as Error & { status?: number };
      expect(refused.status).toBe(409);
      expect(refused.message).toBe(
        `the lab "l18-on-kind" cannot start on this server: it needs the kind engine: real containers and enforced NetworkPolicy; this server runs labs on the embedded engine. Choose another lab on /labs; an operator: ${labEngineOn('embedded').fit('kind').unavailable!.operator}`,
      );
      expect(acquired).toEqual([]);
      expect(await service.activeRun(learner, 'l18-on-kind')).toBeUndefined();

      await service.prepareAll();
      expect(service.preparedCount('l18-on-kind')).toBe(0);
      expect(service.preparedCount('l18')).toBe(1);
    } finally {
      await service.close();
      await store.close();
    }
  });

  it('is listed in the catalog as needing kind; the others show the embedded engine', async () => {
    const catalog = await activityCatalog(content.root, labEngineOn('embedded'));
    expect(catalog.lab('l18-on-kind')!.engine).toMatchObject({ badge: 'Needs kind', unavailable: expect.any(Object) });
    expect(catalog.lab('l18')!.engine).toMatchObject({ engine: 'embedded', badge: 'Embedded engine' });
  });
});
