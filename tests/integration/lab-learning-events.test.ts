// A lab run's learning events on a REAL cluster, as LMS grade passback (LTI AGS) and the LRS
// (xAPI) receive them: launched when a run starts, passed once per step the first time it passes,
// completed once, with the run's score, when the last open step passes. The lab is proved by its
// own reference solution (the same path as `irlab test`).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedProvider } from '../../src/server/cluster/embedded-provider.ts';
import { testLab } from '../../src/server/lab/lab-test.ts';
import { validateProjectLabs } from '../../src/server/lab/labs.ts';
import { LearningEvents, type LearningEvent } from '../../src/server/learners/learning-events.ts';

let work: string;
let provider: EmbeddedProvider;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'irlab-lab-events-'));
  provider = new EmbeddedProvider({ workDir: path.join(work, '.kwok') });
});

afterAll(async () => {
  for (const cluster of await provider.list()) await provider.delete(cluster.name).catch(() => {});
  await rm(work, { recursive: true, force: true });
}, 60_000);

describe('a lab run tells the learning-event bus', () => {
  it('launched, each step passed once in order, completed once with the run\'s score', async () => {
    const root = process.cwd();
    const lab = (await validateProjectLabs(root)).labs.find((l) => l.slug === 'leaked-ci-token')!;
    const events = new LearningEvents();
    const heard: LearningEvent[] = [];
    events.subscribe((e) => void heard.push(e));
    const rows = await testLab(lab, { root, provider, events });
    expect(rows.filter((r) => !r.ok)).toEqual([]);

    const activity = { kind: 'lab', slug: 'leaked-ci-token', title: lab.lab.title };
    // The reset at the end starts a second run: launched twice, everything else from the first run.
    expect(heard.map((e) => e.type)).toEqual(['launched', ...lab.lab.steps.map(() => 'passed'), 'completed', 'launched']);
    const [launched, ...rest] = heard;
    expect(launched).toMatchObject({ activity, runId: expect.any(String) });
    const passed = rest.filter((e) => e.type === 'passed');
    expect(passed.map((e) => e.type === 'passed' && e.step?.id)).toEqual(lab.lab.steps.map((s) => s.id));
    expect(new Set(rest.slice(0, -1).map((e) => e.runId))).toEqual(new Set([launched!.runId]));
    const completed = heard.find((e) => e.type === 'completed')!;
    expect(completed).toMatchObject({ activity, success: true, score: { max: lab.lab.steps.length } });
    if (completed.type !== 'completed') throw new Error('unreachable');
    expect(completed.score.scaled).toBeGreaterThan(0);
    expect(completed.score.scaled).toBeLessThanOrEqual(1);
    expect(completed.score.raw).toBeCloseTo(completed.score.scaled * completed.score.max, 6);
    expect(heard.at(-1)!.runId).not.toBe(launched!.runId);
  }, 400_000);
});
