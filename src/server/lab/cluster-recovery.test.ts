// A lab run whose cluster is gone when no new cluster can be had (the engine is missing): Check
// and Apply answer 503 with the reason, the page still shows the run and its progress, and the
// terminal's lookup fails instead of answering "no lab" (which made the terminal fall back to a
// cluster of another engine). That a new cluster does come when one can be had is
// tests/integration/recovery-real-server.test.ts's, on real clusters.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedProvider } from '../cluster/embedded-provider.ts';
import { ClusterError } from '../cluster/types.ts';
import { learnerService } from '../learners/learners.ts';
import type { ClusterSource } from './cluster-source.ts';
import { validateProjectLabs } from './labs.ts';
import { labService, workspaceUnder } from './service.ts';
import { labEngineOn } from '../../lib/lab-engine.ts';
import { openedPerTest, testStores } from '../store/store-test-kit.ts';

let work: string;

beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'irlab-recovery-unit-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

const open = openedPerTest();

describe.each(testStores())('a lab run whose cluster is gone, with no engine to make a new one, on $name', (backend) => {
  it('answers 503 with the reason, keeps showing the run, and never tells the terminal "no lab"', async () => {
    const store = await open(backend);
    const { labs } = await validateProjectLabs(process.cwd());
    const acquired: string[] = [];
    const clusters: ClusterSource = {
      // A work dir with no clusters in it: the run's cluster is nowhere.
      provider: new EmbeddedProvider({ workDir: path.join(work, 'kwok') }),
      acquire: async () => {
        acquired.push('asked');
        throw new ClusterError('missing in the engine cache: etcd, kube-apiserver', 'run `irlab engine build`');
      },
      release: async () => {},
      find: async () => undefined,
    };
    const service = labService({
      db: store,
      root: process.cwd(),
      labs: async () => labs,
      clusters,
      engine: labEngineOn('embedded'),
      workspaceOf: workspaceUnder(work),
      answerKeys: path.join(work, 'keys'),
      renderMarkdown: async (markdown) => markdown,
    });
    const learner = (await learnerService({ store }).create()).learner.id;
    await store.run('INSERT INTO lab_runs (id, learner_id, lab, cluster, provider, seed, started_at) VALUES (?, ?, ?, ?, ?, ?, ?)', ['run-1', learner, 'l18', 'pool-0123456789ab', 'embedded', '00', new Date().toISOString()]);

    for (const attempt of [() => service.check(learner, 'l18', 'investigate', {}), () => service.applyPolicy(learner, 'l18')]) {
      const error = (await attempt().catch((e: unknown) => e)) as Error & { status?: number };
      expect(error.status).toBe(503);
      expect(error.message).toMatch(/your lab cluster pool-0123456789ab is gone and a new one could not be made: missing in the engine cache.*press Reset/);
    }
    const view = await service.view(learner, 'l18');
    expect(view.run).toMatchObject({ cluster: 'pool-0123456789ab' });
    expect(view.run!.recovered).toBeUndefined();
    await expect(service.clusterFor(learner)).rejects.toThrow(/could not be made/);
    // Each request tried again (the engine may be back by then); none was shared with a later one.
    expect(acquired.length).toBe(4);
  });
});
