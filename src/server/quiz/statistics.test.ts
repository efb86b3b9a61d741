import { describe, expect, it } from 'vitest';
import { itemStatistics, mean, pearson, THRESHOLDS } from './statistics.ts';

describe('pearson', () => {
  it('matches hand-computed values', () => {
    expect(pearson([1, 2, 3, 4, 5], [2, 4, 6, 8, 10])).toBeCloseTo(1);
    expect(pearson([1, 2, 3, 4, 5], [10, 8, 6, 4, 2])).toBeCloseTo(-1);
    // x = 1,2,3,4; y = 1,3,2,4: sxy = 4, sxx = syy = 5, r = 0.8.
    expect(pearson([1, 2, 3, 4], [1, 3, 2, 4])).toBeCloseTo(0.8);
  });
  it('is undefined without variance or with fewer than two pairs', () => {
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeUndefined();
    expect(pearson([1], [2])).toBeUndefined();
  });
  it('equals the point-biserial formula for a right/wrong item', () => {
    const item = [1, 1, 0, 1, 0, 0];
    const rest = [0.9, 0.7, 0.4, 0.8, 0.5, 0.3];
    // r_pb = (M1 - M0) / s_n * sqrt(p q), with the population standard deviation s_n.
    const m1 = mean([0.9, 0.7, 0.8])!;
    const m0 = mean([0.4, 0.5, 0.3])!;
    const m = mean(rest)!;
    const sn = Math.sqrt(mean(rest.map((r) => (r - m) ** 2))!);
    expect(pearson(item, rest)).toBeCloseTo(((m1 - m0) / sn) * Math.sqrt(0.5 * 0.5), 10);
  });
});

describe('itemStatistics', () => {
  const items = [
    { id: 'good', points: 1 },
    { id: 'easy', points: 1 },
    { id: 'hard', points: 1 },
    { id: 'miskeyed', points: 1 },
  ];
  // Six learners, strongest first. `good` follows ability, `easy` everyone gets, `hard` nobody
  // gets, and `miskeyed` only the weakest get "right".
  const rows: Array<Record<string, number>> = [
    { good: 1, easy: 1, hard: 0, miskeyed: 0, a: 1, b: 1, c: 1 },
    { good: 1, easy: 1, hard: 0, miskeyed: 0, a: 1, b: 1, c: 0 },
    { good: 1, easy: 1, hard: 0, miskeyed: 0, a: 1, b: 0, c: 1 },
    { good: 0, easy: 1, hard: 0, miskeyed: 1, a: 0, b: 1, c: 0 },
    { good: 0, easy: 1, hard: 0, miskeyed: 1, a: 0, b: 0, c: 0 },
    { good: 0, easy: 1, hard: 0, miskeyed: 1, a: 0, b: 0, c: 0 },
  ];
  const all = [...items, { id: 'a', points: 1 }, { id: 'b', points: 1 }, { id: 'c', points: 1 }];
  const stats = Object.fromEntries(itemStatistics(rows.map((scores) => ({ scores })), all).map((s) => [s.id, s]));

  it('computes facility as the mean item score', () => {
    expect(stats.good!.facility).toBe(0.5);
    expect(stats.easy!.facility).toBe(1);
    expect(stats.hard!.facility).toBe(0);
  });

  it('computes discrimination against the rest score, not the total', () => {
    // Rest score of `good` for each learner: (total - item) / 6.
    const rest = rows.map((r) => (Object.values(r).reduce((a, b) => a + b, 0) - r.good!) / 6);
    expect(stats.good!.discrimination).toBeCloseTo(pearson(rows.map((r) => r.good!), rest)!, 10);
    expect(stats.good!.discrimination).toBeGreaterThan(0.5);
    expect(stats.miskeyed!.discrimination).toBeLessThan(0);
    expect(stats.easy!.discrimination).toBeUndefined();
  });

  it('flags weak questions', () => {
    expect(stats.easy!.flags.some((f) => f.startsWith('too easy'))).toBe(true);
    expect(stats.hard!.flags.some((f) => f.startsWith('too hard'))).toBe(true);
    expect(stats.miskeyed!.flags.some((f) => f.startsWith('negative discrimination'))).toBe(true);
    expect(stats.good!.flags).toEqual([]);
  });

  it('uses partial credit and question weights, and skips learners not asked an item', () => {
    const weighted = itemStatistics(
      [{ scores: { x: 0.5, y: 1 } }, { scores: { y: 0 } }],
      [{ id: 'x', points: 2 }, { id: 'y', points: 1 }],
    );
    expect(weighted[0]).toMatchObject({ id: 'x', n: 1, facility: 0.5 });
    expect(weighted[0]!.flags[0]).toContain(`fewer than ${THRESHOLDS.minResponses}`);
    expect(weighted[1]).toMatchObject({ id: 'y', n: 2, facility: 0.5 });
  });

  it('counts a question submitted unanswered apart from a wrong one: no false "too hard"', () => {
    // Six learners asked `last`: two answered it right, four ran out of time (null).
    const skipped = itemStatistics(
      [1, 1, null, null, null, null].map((last, i) => ({ scores: { first: i < 3 ? 1 : 0, last } })),
      [{ id: 'first', points: 1 }, { id: 'last', points: 1 }],
    );
    const last = skipped[1]!;
    expect(last).toMatchObject({ id: 'last', n: 2, unanswered: 4, facility: 1 });
    expect(last.flags.some((f) => f.startsWith('too hard'))).toBe(false);
    expect(last.flags).toContain('often left unanswered: 4 of 6 learners submitted without answering (too long, unclear, or too late in the quiz?)');
    // What a learner left unanswered earned nothing toward their rest score on other items.
    expect(skipped[0]).toMatchObject({ n: 6, unanswered: 0, facility: 0.5 });
    expect(skipped[0]!.discrimination).toBeCloseTo(pearson([1, 1, 1, 0, 0, 0], [1, 1, 0, 0, 0, 0])!, 10);
  });
});
