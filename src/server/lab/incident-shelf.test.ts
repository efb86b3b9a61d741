import { describe, expect, it } from 'vitest';
import type { ClusterInfo } from '../cluster/types.ts';
import { IncidentShelf, type PreparedIncident } from './incident-shelf.ts';

/** Preparations the test settles by hand, in the order they were asked for. */
function preparations() {
  const asked: Array<{ lab: string; resolve: (i: PreparedIncident) => void; reject: (e: Error) => void }> = [];
  const discarded: string[] = [];
  let n = 0;
  const incident = (): PreparedIncident => ({ cluster: { name: `c${++n}` } as ClusterInfo, seed: `s${n}` });
  return {
    asked,
    discarded,
    incident,
    prepare: (lab: string) => new Promise<PreparedIncident>((resolve, reject) => asked.push({ lab, resolve, reject })),
    discard: async (i: PreparedIncident) => {
      discarded.push(i.cluster.name);
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('incident shelf', () => {
  it('keeps perLab incidents per lab and prepares the next one when one is taken', async () => {
    const p = preparations();
    const shelf = new IncidentShelf({ perLab: 1, prepare: p.prepare, discard: p.discard });
    shelf.fill('l18');
    shelf.fill('l18');
    expect(p.asked.map((a) => a.lab)).toEqual(['l18']);
    const first = p.incident();
    p.asked[0]!.resolve(first);
    const taken = shelf.take('l18');
    expect(await taken).toBe(first);
    expect(p.asked.map((a) => a.lab)).toEqual(['l18', 'l18']);
    expect(shelf.take('other')).toBeUndefined();
  });

  it('hands out an incident still being seeded, rather than starting over', async () => {
    const p = preparations();
    const shelf = new IncidentShelf({ perLab: 1, prepare: p.prepare, discard: p.discard });
    shelf.fill('l18');
    const taken = shelf.take('l18');
    const later = p.incident();
    p.asked[0]!.resolve(later);
    expect(await taken).toBe(later);
  });

  it('drops a failed preparation, reports it, and tries again on the next take', async () => {
    const p = preparations();
    const errors: string[] = [];
    const shelf = new IncidentShelf({ perLab: 1, prepare: p.prepare, discard: p.discard, onError: (lab, e) => errors.push(`${lab}: ${(e as Error).message}`) });
    shelf.fill('l18');
    p.asked[0]!.reject(new Error('seeding timed out'));
    await settle();
    expect(errors).toEqual(['l18: seeding timed out']);
    expect(shelf.count('l18')).toBe(0);
    expect(shelf.take('l18')).toBeUndefined();
    expect(p.asked).toHaveLength(2);
  });

  it('on close, gives back every incident nobody took and prepares no more', async () => {
    const p = preparations();
    const shelf = new IncidentShelf({ perLab: 2, prepare: p.prepare, discard: p.discard });
    shelf.fill('l18');
    for (const a of p.asked) a.resolve(p.incident());
    await shelf.close();
    expect(p.discarded.sort()).toEqual(['c1', 'c2']);
    shelf.fill('l18');
    expect(shelf.take('l18')).toBeUndefined();
    expect(p.asked).toHaveLength(2);
  });
});
