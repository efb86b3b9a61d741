import { describe, expect, it } from 'vitest';
import { resolveParams } from './params.ts';
import { fill } from './template.ts';

const params = {
  ip: { ip: '203.0.113.0/24' },
  word: { pick: ['a', 'b', 'c', 'd', 'e', 'f'] },
  many: { sample: ['p', 'q', 'r', 's', 't'], count: 3 },
  suffix: { token: 6 },
  n: { int: [3, 5] as [number, number] },
};

describe('per-learner randomization', () => {
  it('is reproducible for a seed and differs between seeds', () => {
    expect(resolveParams('learner-1', params)).toEqual(resolveParams('learner-1', params));
    const many = new Set(Array.from({ length: 20 }, (_, i) => JSON.stringify(resolveParams(`learner-${i}`, params))));
    expect(many.size).toBe(20);
  });

  it('draws values of the declared shape', () => {
    for (let i = 0; i < 200; i++) {
      const v = resolveParams(String(i), params);
      expect(v.ip).toMatch(/^203\.0\.113\.(\d+)$/);
      const last = Number(String(v.ip).split('.')[3]);
      expect(last).toBeGreaterThan(0);
      expect(last).toBeLessThan(255);
      expect(params.word.pick).toContain(v.word);
      expect(new Set(v.many as string[]).size).toBe(3);
      expect(v.suffix).toMatch(/^[a-z0-9]{6}$/);
      expect(['3', '4', '5']).toContain(v.n);
    }
  });

  it('keeps a param stable when another param is added', () => {
    const before = resolveParams('s', params);
    const after = resolveParams('s', { extra: { token: 4 }, ...params });
    expect(after.ip).toBe(before.ip);
    expect(after.many).toEqual(before.many);
  });

  it('fills placeholders, lists whole or joined', () => {
    const values = { ns: ['a', 'b'], name: 'x' };
    expect(fill({ list: '{{ ns }}', text: 'in {{ns}} as {{ name }}', n: 3 }, values)).toEqual({ list: ['a', 'b'], text: 'in a, b as x', n: 3 });
    expect(() => fill('{{ nope }}', values)).toThrow('unknown placeholder {{ nope }}');
  });
});
