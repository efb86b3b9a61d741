// Cells sizing their own warm pools from the shared store: each computes the same plan and takes
// its own line, logs a change once, and goes back to the floor when the class is over.
import { describe, expect, it } from 'vitest';
import { classService } from '../classes/classes.ts';
import { identityService } from '../learners/identities.ts';
import { learnerService } from '../learners/learners.ts';
import { openedPerTest, testStores, type TestBackend } from '../store/store-test-kit.ts';
import type { Timers } from './cell-membership.ts';
import { cellRegistry } from './registry.ts';
import { warmSizer } from './warm-sizer.ts';

const open = openedPerTest();
const settings = { floor: 1, ceiling: 20, fraction: 0.8, leadMs: 20 * 60_000 };
const noTimers: Timers = { setInterval: () => 0, clearInterval: () => undefined };

describe.each(testStores())('warm pools sized from the classes due on $name', (backend: TestBackend) => {
  it('every cell applies its share of a due class, on its own, and the floor once it is over', async () => {
    const store = await open(backend);
    const time = { now: new Date('2026-12-08T08:45:00Z') };
    const clock = () => time.now;
    const registry = cellRegistry({ store, clock });
    await registry.register({ id: 'cell-0', url: 'http://127.0.0.1:1', capacity: 30 });
    await registry.register({ id: 'cell-1', url: 'http://127.0.0.1:2', capacity: 10 });
    const learners = learnerService({ store });
    const classes = classService({ store, learners, identities: identityService({ store }), clock });
    const klass = await classes.create('Morning workshop', 'operator');
    await classes.setSchedule(klass.id, { startsAt: '2026-12-08T09:00:00Z', minutes: 60, expectedLearners: 20 });

    const sizes = new Map<string, number[]>();
    const lines: string[] = [];
    const sizers = ['cell-0', 'cell-1'].map((id) =>
      warmSizer({
        store,
        cell: { registry, id },
        settings,
        everyMs: 15_000,
        clock,
        timers: noTimers,
        log: (line) => lines.push(line),
        resize: async (clusters) => (sizes.set(id, [...(sizes.get(id) ?? []), clusters]), true),
      }),
    );
    // 16 warm (80 % of 20) over 30 and 10 free slots: 12 and 4.
    expect((await sizers[0]!.apply())?.clusters).toBe(12);
    expect((await sizers[1]!.apply())?.clusters).toBe(4);
    await sizers[0]!.apply();
    expect(sizes.get('cell-0')).toEqual([12, 12]);
    expect(lines.filter((l) => l.startsWith('irlab cell cell-0'))).toEqual([expect.stringMatching(/^irlab cell cell-0: warm pool 1 -> 12 ready clusters: 1 class\(es\) due or running want 16 warm in all \(cls_\S+: 20 expected, 0 arrived\)$/)]);

    time.now = new Date('2026-12-08T10:00:00Z');
    expect((await sizers[0]!.apply())?.clusters).toBe(1);
    expect(lines.at(-1)).toBe('irlab cell cell-0: warm pool 12 -> 1 ready clusters: no class due: back to the floor (IRLAB_WARM_POOL_SIZE)');
    for (const sizer of sizers) sizer.stop();
  });

  it('one process sizes its one pool, and waits for a pool that is not running yet', async () => {
    const store = await open(backend);
    const clock = () => new Date('2026-12-08T09:10:00Z');
    const classes = classService({ store, learners: learnerService({ store }), identities: identityService({ store }), clock });
    const klass = await classes.create('Event', 'operator');
    await classes.setSchedule(klass.id, { startsAt: '2026-12-08T09:00:00Z', minutes: 120, expectedLearners: 100 });
    let running = false;
    const applied: number[] = [];
    const sizer = warmSizer({ store, settings, everyMs: 15_000, clock, timers: noTimers, log: () => undefined, resize: async (n) => running && (applied.push(n), true) });
    expect(await sizer.apply()).toBeUndefined();
    running = true;
    expect((await sizer.apply())?.clusters).toBe(20); // the ceiling
    expect(applied).toEqual([20]);
    sizer.stop();
  });
});
