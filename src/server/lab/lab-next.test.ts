// A completion screen suggests a lab the learner can start here: on the embedded engine,
// leaked-ci-token's next is L18, not the kind-only node-escape that follows it in the lesson.
import { describe, expect, it } from 'vitest';

import { labEngineOn } from '../../lib/lab-engine.ts';
import { labNextOf } from './lab-next.ts';
import { validateProjectLabs } from './labs.ts';

describe('labNextOf', () => {
  it('prefers the next lab this server can start, and falls back to the lesson\'s order', async () => {
    const { labs } = await validateProjectLabs(process.cwd());
    const leaked = labs.find((l) => l.slug === 'leaked-ci-token')!;
    const startsOn = (engine: 'embedded' | 'kind') => (need: Parameters<ReturnType<typeof labEngineOn>['fit']>[0]) => !labEngineOn(engine).fit(need).unavailable;
    expect((await labNextOf(process.cwd(), true, startsOn('embedded'))(leaked))?.lab?.href).toBe('/labs/l18');
    expect((await labNextOf(process.cwd(), true, startsOn('kind'))(leaked))?.lab?.href).toBe('/labs/node-escape');
    expect((await labNextOf(process.cwd(), true)(leaked))?.lab?.href).toBe('/labs/node-escape');
  });
});
