import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashString, sample, seededRandom, shuffle } from './seeded-random.ts';

describe('seeded shuffle', () => {
  const items = Array.from({ length: 10 }, (_, i) => `item-${i}`);

  it('is reproducible: the same seed gives the same order', () => {
    expect(shuffle(items, seededRandom('attempt-1:q1'))).toEqual(shuffle(items, seededRandom('attempt-1:q1')));
  });

  it('gives different orders for different seeds', () => {
    const orders = new Set(Array.from({ length: 50 }, (_, i) => shuffle(items, seededRandom(`seed-${i}`)).join(',')));
    expect(orders.size).toBeGreaterThan(45);
  });

  it('always returns a permutation and leaves the input alone', () => {
    fc.assert(
      fc.property(fc.array(fc.integer()), fc.string(), (list, seed) => {
        const copy = [...list];
        const out = shuffle(list, seededRandom(seed));
        expect(list).toEqual(copy);
        expect([...out].sort()).toEqual([...list].sort());
      }),
    );
  });

  it('puts every item in every position about equally often', () => {
    const counts = Array.from({ length: 4 }, () => [0, 0, 0, 0]);
    for (let i = 0; i < 4000; i++) shuffle([0, 1, 2, 3], seededRandom(`u${i}`)).forEach((item, pos) => counts[item]![pos]!++);
    for (const row of counts) for (const n of row) expect(n).toBeGreaterThan(850);
  });

  it('produces floats in [0, 1)', () => {
    const random = seededRandom('range');
    for (let i = 0; i < 1000; i++) {
      const x = random();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
  });

  it('samples distinct items in their original order', () => {
    const picked = sample(items, 4, seededRandom('pool'));
    expect(picked).toHaveLength(4);
    expect(new Set(picked).size).toBe(4);
    expect(picked).toEqual([...picked].sort((a, b) => items.indexOf(a) - items.indexOf(b)));
    expect(sample(items, 4, seededRandom('pool'))).toEqual(picked);
  });

  it('hashes strings stably', () => {
    expect(hashString('abc')).toBe(hashString('abc'));
    expect(hashString('abc')).not.toBe(hashString('abd'));
    expect(Number.isSafeInteger(hashString('x'.repeat(1000)))).toBe(true);
  });
});
