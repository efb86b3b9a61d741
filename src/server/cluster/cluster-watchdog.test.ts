// The watchdog's decisions, on a manual clock: when it repairs, when it asks /readyz, when it
// gives a cluster up, and how many repairs it runs at once. Whether a repair really brings a
// killed kube-apiserver back is tests/integration/recovery-real-server.test.ts's question.
import { describe, expect, it } from 'vitest';
import { ClusterWatchdog, type Problem, type WatchTarget, type WatchdogEvent } from './cluster-watchdog.ts';
import type { Clock } from './runtime.ts';

function manualClock(): Clock & { advance(ms: number): void } {
  let now = 0;
  return { now: () => now, sleep: async () => {}, advance: (ms) => void (now += ms) };
}

interface Script {
  dead: Map<string, string[]>;
  ready: Map<string, boolean>;
  repairs: Array<{ name: string; problem: Problem }>;
  readyz: string[];
  /** Repairs of these clusters fail. */
  broken: Set<string>;
}

function target(script: Script, gate?: Promise<void>): WatchTarget {
  return {
    deadComponents: async (name) => script.dead.get(name) ?? [],
    ready: async (name) => {
      script.readyz.push(name);
      return script.ready.get(name) ?? true;
    },
    repair: async (name, problem) => {
      script.repairs.push({ name, problem });
      await gate;
      if (script.broken.has(name)) throw new Error('kwokctl start cluster exited with 1');
      script.dead.delete(name);
      script.ready.set(name, true);
    },
  };
}

const fresh = (): Script => ({ dead: new Map(), ready: new Map(), repairs: [], readyz: [], broken: new Set() });

describe('cluster watchdog', () => {
  it('restarts a dead component and leaves healthy clusters alone', async () => {
    const script = fresh();
    const events: WatchdogEvent[] = [];
    const watchdog = new ClusterWatchdog({ target: target(script), replace: async () => {}, clock: manualClock(), onEvent: (e) => events.push(e) });
    watchdog.watch('a');
    watchdog.watch('b');
    script.dead.set('b', ['kube-apiserver']);
    await watchdog.tick();
    await watchdog.settled();
    expect(script.repairs).toEqual([{ name: 'b', problem: { dead: ['kube-apiserver'], unready: false } }]);
    expect(events.map((e) => e.type)).toEqual(['broken', 'repaired']);
    await watchdog.tick();
    await watchdog.settled();
    expect(script.repairs).toHaveLength(1);
  });

  it('asks /readyz once per period, spread over clusters, and repairs after two failures in a row', async () => {
    const clock = manualClock();
    const script = fresh();
    const watchdog = new ClusterWatchdog({ target: target(script), replace: async () => {}, clock, readyzEveryMs: 30_000 });
    for (const name of ['a', 'b', 'c']) watchdog.watch(name);
    await watchdog.tick();
    expect(script.readyz).toEqual(['a']); // b and c are due later in the period
    clock.advance(29_998);
    await watchdog.tick();
    expect(script.readyz).toEqual(['a', 'b', 'c']);
    clock.advance(1);
    await watchdog.tick();
    expect(script.readyz).toHaveLength(3); // nobody is due again yet

    script.ready.set('c', false);
    clock.advance(30_000);
    await watchdog.tick();
    expect(script.repairs).toEqual([]); // one failure: asked again next tick, not repaired yet
    clock.advance(5_000);
    await watchdog.tick();
    await watchdog.settled();
    expect(script.repairs).toEqual([{ name: 'c', problem: { dead: [], unready: true } }]);
  });

  it('gives up on a cluster after three failed repairs in a row and stops watching it', async () => {
    const script = fresh();
    const replaced: string[] = [];
    const watchdog = new ClusterWatchdog({ target: target(script), replace: async (name) => void replaced.push(name), clock: manualClock() });
    watchdog.watch('a');
    script.dead.set('a', ['etcd']);
    script.broken.add('a');
    for (let i = 0; i < 3; i++) {
      await watchdog.tick();
      await watchdog.settled();
    }
    expect(script.repairs).toHaveLength(3);
    expect(replaced).toEqual(['a']);
    expect(watchdog.names()).toEqual([]);
  });

  it('runs at most two repairs at once, skips a cluster busy with a policy swap, and costs no request for 50 healthy clusters between readyz periods', async () => {
    const clock = manualClock();
    const script = fresh();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const busy = new Set(['c']);
    const watchdog = new ClusterWatchdog({ target: { ...target(script, gate), busy: (name) => busy.has(name) }, replace: async () => {}, clock, readyzEveryMs: 30_000 });
    for (let i = 0; i < 50; i++) watchdog.watch(`n${i}`);
    // Ticking every second for five minutes: each cluster is asked once per 30 s, a few per tick.
    let most = 0;
    for (let second = 0; second < 300; second++) {
      const before = script.readyz.length;
      await watchdog.tick();
      most = Math.max(most, script.readyz.length - before);
      clock.advance(1_000);
    }
    expect(script.readyz.length).toBeGreaterThanOrEqual(450);
    expect(script.readyz.length).toBeLessThanOrEqual(550);
    expect(most).toBeLessThanOrEqual(3);

    for (const name of ['a', 'b', 'c', 'd']) {
      watchdog.watch(name);
      script.dead.set(name, ['kube-scheduler']);
    }
    await watchdog.tick();
    expect(script.repairs.map((r) => r.name)).toEqual(['a', 'b']);
    open();
    await watchdog.settled();
    await watchdog.tick();
    await watchdog.settled();
    expect(script.repairs.map((r) => r.name)).toEqual(['a', 'b', 'd']);
    busy.clear();
    await watchdog.tick();
    await watchdog.settled();
    expect(script.repairs.map((r) => r.name)).toEqual(['a', 'b', 'd', 'c']);
  });
});
