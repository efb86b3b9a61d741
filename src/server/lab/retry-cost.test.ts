import { describe, expect, it } from 'vitest';
import { nextCheckCost, RETRY_POLICY, stepScore } from './retry-cost.ts';

const failed = (retryCost = 0) => ({ retryCost, passed: false, score: 0.5 });

describe('retry cost', () => {
  it('gives an answer step three free checks, then charges 5 % a check', () => {
    expect(RETRY_POLICY).toEqual({ free: 3, cost: 0.05, maxTotal: 0.5 });
    expect(nextCheckCost(true, [])).toBe(0);
    expect(nextCheckCost(true, [failed(), failed()])).toBe(0);
    expect(nextCheckCost(true, [failed(), failed(), failed()])).toBe(0.05);
    expect(nextCheckCost(true, [failed(), failed(), failed(), failed(0.05)])).toBe(0.05);
  });
  it('never takes more than half the step, and nothing once passed or on a cluster step', () => {
    const many = [failed(), failed(), failed(), ...Array.from({ length: 10 }, () => failed(0.05))];
    expect(nextCheckCost(true, many)).toBe(0);
    expect(nextCheckCost(true, [failed(), failed(), failed(), { retryCost: 0, passed: true, score: 1 }])).toBe(0);
    expect(nextCheckCost(false, many)).toBe(0);
    expect(stepScore([...many, { retryCost: 0, passed: true, score: 1 }], 0)).toBe(0.5);
  });
  it('scales each check by what retries had cost by then, keeps the best, then subtracts hints', () => {
    // Passed on the fifth check: two charged checks, 10 % off.
    expect(stepScore([failed(), failed(), failed(), failed(0.05), { retryCost: 0.05, passed: true, score: 1 }], 0)).toBe(0.9);
    // A pass before the charges keeps its full value.
    expect(stepScore([{ retryCost: 0, passed: true, score: 1 }, failed(0.05)], 0.1)).toBe(0.9);
    expect(stepScore([], 0.2)).toBe(0);
  });
});
