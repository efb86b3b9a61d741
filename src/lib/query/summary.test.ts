import { describe, expect, it } from 'vitest';
import { SummaryBuilder } from './summary.ts';

const ev = (user: string, at: string, ips = ['10.0.0.1']) => ({ user: { username: user }, verb: 'get', sourceIPs: ips, requestReceivedTimestamp: at, responseStatus: { code: 200 } });

describe('panel summary', () => {
  it('counts top values per field, once per event even for repeated array values', () => {
    const b = new SummaryBuilder();
    b.add(ev('a', '2026-11-27T09:00:01Z', ['1.1.1.1', '1.1.1.1']));
    b.add(ev('a', '2026-11-27T09:00:02Z'));
    b.add(ev('b', '2026-11-27T09:00:03Z'));
    const { fields } = b.result();
    expect(fields.find((f) => f.field === 'user.username')).toEqual({ field: 'user.username', present: 3, other: 0, values: [{ value: 'a', count: 2 }, { value: 'b', count: 1 }] });
    expect(fields.find((f) => f.field === 'sourceIPs')!.values).toEqual([{ value: '10.0.0.1', count: 2 }, { value: '1.1.1.1', count: 1 }]);
    expect(fields.find((f) => f.field === 'responseStatus.code')!.values).toEqual([{ value: 200, count: 3 }]);
    expect(fields.find((f) => f.field === 'objectRef.subresource')!.present).toBe(0);
  });
  it('buckets per minute, fills empty minutes, and counts highlighted identities', () => {
    const b = new SummaryBuilder();
    b.add(ev('alice', '2026-11-27T09:00:59.999999Z'));
    b.add(ev('mallory', '2026-11-27T09:00:10Z'));
    b.add(ev('mallory', '2026-11-27T09:03:00Z'));
    expect(b.result(['mallory', 'mallory']).timeline).toEqual([
      { minute: '2026-11-27T09:00:00Z', count: 2, highlighted: 1 },
      { minute: '2026-11-27T09:01:00Z', count: 0, highlighted: 0 },
      { minute: '2026-11-27T09:02:00Z', count: 0, highlighted: 0 },
      { minute: '2026-11-27T09:03:00Z', count: 1, highlighted: 1 },
    ]);
  });
});
