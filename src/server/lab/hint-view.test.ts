// Hints are the lab author's Markdown: the learner sees them rendered (code as code, not raw
// backticks), and only once taken; an untaken hint's text leaves the server in no form.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { marked } from 'marked';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedProvider } from '../cluster/embedded-provider.ts';
import { learnerService } from '../learners/learners.ts';
import { validateProjectLabs } from './labs.ts';
import { labService, workspaceUnder } from './service.ts';
import { labEngineOn } from '../../lib/lab-engine.ts';
import { openedPerTest, testStores } from '../store/store-test-kit.ts';

let work: string;

beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'irlab-hint-unit-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

const open = openedPerTest();

describe.each(testStores())('hints as the learner sees them on $name', (backend) => {
  it('renders a taken hint as HTML and sends nothing of an untaken one', async () => {
    const store = await open(backend);
    const { labs } = await validateProjectLabs(process.cwd());
    const service = labService({
      db: store,
      root: process.cwd(),
      labs: async () => labs,
      clusters: {
        provider: new EmbeddedProvider({ workDir: path.join(work, 'kwok') }),
        acquire: async () => Promise.reject(new Error('no clusters in this test')),
        release: async () => {},
        find: async () => undefined,
      },
      engine: labEngineOn('embedded'),
      workspaceOf: workspaceUnder(work),
      answerKeys: path.join(work, 'keys'),
      renderMarkdown: async (markdown) => marked.parse(markdown, { async: true }),
    });
    const learner = (await learnerService({ store }).create()).learner.id;
    await store.run('INSERT INTO lab_runs (id, learner_id, lab, cluster, provider, seed, started_at) VALUES (?, ?, ?, ?, ?, ?, ?)', ['run-1', learner, 'l18', 'pool-0123456789ab', 'embedded', '00', new Date().toISOString()]);

    const step = await service.hint(learner, 'l18', 'contain', 0);
    const [taken, ...untaken] = step.hints;
    expect(taken!.text).toMatch(/`kubectl get pods -n production -o wide`/);
    expect(taken!.html).toContain('<code>kubectl get pods -n production -o wide</code>');
    expect(taken!.html).not.toContain('`');
    expect(untaken.length).toBeGreaterThan(0);
    for (const hint of untaken) expect(Object.keys(hint).sort()).toEqual(['cost', 'index']);
  });
});
