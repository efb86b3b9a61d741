import { describe, expect, it } from 'vitest';
import type { Expr } from './ast.ts';
import { QueryError } from './errors.ts';
import { compile } from './evaluate.ts';
import { MAX_TREE_DEPTH } from './limits.ts';
import { parseQuery } from './parser.ts';
import { runQuery } from './pipeline.ts';

const e = (over: Record<string, unknown>) => ({
  kind: 'Event',
  verb: 'get',
  user: { username: 'alice', groups: ['system:masters', 'system:authenticated'] },
  sourceIPs: ['10.0.0.1'],
  objectRef: { resource: 'pods', namespace: 'default', name: 'p' },
  responseStatus: { code: 200 },
  requestReceivedTimestamp: '2026-11-27T09:00:00.000000Z',
  ...over,
});

const events = [
  e({ auditID: 'a', user: { username: 'system:serviceaccount:production:web-app', groups: ['system:serviceaccounts', 'system:serviceaccounts:production'] }, objectRef: { resource: 'secrets', namespace: 'payments', name: 'db' }, sourceIPs: ['203.0.113.50', '10.244.2.17'], requestReceivedTimestamp: '2026-11-27T09:14:03.512345Z' }),
  e({ auditID: 'b', verb: 'create', objectRef: { resource: 'pods', namespace: 'production', name: 'web', subresource: 'exec' }, requestReceivedTimestamp: '2026-11-27T09:14:03.512346Z' }),
  e({ auditID: 'c', user: { username: 'system:node:worker-1', groups: ['system:nodes'] }, responseStatus: { code: 403 }, requestReceivedTimestamp: '2026-11-27T09:20:00Z' }),
  e({ auditID: 'd', verb: 'list', objectRef: { resource: 'secrets' }, annotations: { 'authorization.k8s.io/decision': 'forbid' }, requestReceivedTimestamp: '2026-11-27T10:01:00Z' }),
];

function ids(query: string, input: unknown[] = events): string[] {
  const out = runQuery(parseQuery(query), input);
  if (out.kind !== 'events') throw new Error('expected events');
  return out.events.map((x) => (x as { auditID: string }).auditID);
}

function rows(query: string, input: unknown[] = events) {
  const out = runQuery(parseQuery(query), input);
  if (out.kind !== 'rows') throw new Error('expected rows');
  return out;
}

describe('conditions', () => {
  it('matches an array field when any element matches', () => {
    expect(ids('user.groups == "system:nodes"')).toEqual(['c']);
    expect(ids('sourceIPs == "10.244.2.17"')).toEqual(['a']);
    expect(ids('sourceIPs in ("10.244.2.17", "nope")')).toEqual(['a']);
  });
  it('treats != and not in as negations, true when the field is absent', () => {
    expect(ids('user.groups != "system:masters"')).toEqual(['a', 'c']);
    expect(ids('objectRef.subresource != "exec"')).toEqual(['a', 'c', 'd']);
    expect(ids('objectRef.namespace not in ("default", "payments")')).toEqual(['b', 'd']);
  });
  it('reads * in == and != as a wildcard, and \\* as a star', () => {
    expect(ids('user.username == "system:serviceaccount:*"')).toEqual(['a']);
    expect(ids('user.username == "*:web-*"')).toEqual(['a']);
    expect(ids('user.username != "system:*"')).toEqual(['b', 'd']);
    expect(ids('user.username == "system:*:worker-1"')).toEqual(['c']);
    expect(ids('user.username == "sys\\*"')).toEqual([]);
    expect(ids('user.username in ("system:*")')).toEqual([]); // no wildcards in lists
  });
  it('matches exists and null on presence', () => {
    expect(ids('objectRef.subresource exists')).toEqual(['b']);
    expect(ids('NOT objectRef.subresource exists')).toEqual(['a', 'c', 'd']);
    expect(ids('objectRef.namespace == null')).toEqual(['d']);
    expect(ids('annotations."authorization.k8s.io/decision" == "forbid"')).toEqual(['d']);
  });
  it('compares numbers as numbers and never text with numbers', () => {
    expect(ids('responseStatus.code >= 400')).toEqual(['c']);
    expect(ids('responseStatus.code == 200 AND verb == "list"')).toEqual(['d']);
    expect(ids('requestObject.x == 1', [e({ auditID: 'n', requestObject: { x: '1' } })])).toEqual([]);
  });
  it('compares timestamps as times, to the microsecond, in any zone', () => {
    expect(ids('requestReceivedTimestamp >= "2026-11-27T09:14:03.512346Z"')).toEqual(['b', 'c', 'd']);
    expect(ids('requestReceivedTimestamp > "2026-11-27T09:14:03.512345Z" AND requestReceivedTimestamp < "2026-11-27T10:00:00Z"')).toEqual(['b', 'c']);
    expect(ids('requestReceivedTimestamp >= "2026-11-27T11:00:00+01:00"')).toEqual(['d']);
    expect(ids('requestReceivedTimestamp < "2026-11-27"')).toEqual([]);
  });
});

describe('pipeline', () => {
  it('counts, overall and by field', () => {
    expect(rows('| count').rows).toEqual([{ count: 4 }]);
    expect(rows('| count by verb | sort -count').rows).toEqual([{ verb: 'get', count: 2 }, { verb: 'create', count: 1 }, { verb: 'list', count: 1 }]);
  });
  it('counts a multi-valued field once per value', () => {
    expect(rows('| count by user.groups | sort user.groups').rows.map((r) => `${r['user.groups']}=${r.count}`)).toEqual([
      'system:authenticated=2',
      'system:masters=2',
      'system:nodes=1',
      'system:serviceaccounts=1',
      'system:serviceaccounts:production=1',
    ]);
  });
  it('counts distinct values, ignoring absent ones, and filters rows with where', () => {
    const out = rows('| dc(objectRef.namespace) by user.username | where dc >= 1 | sort user.username');
    expect(out.columns).toEqual(['user.username', 'dc']);
    expect(out.rows).toEqual([
      { 'user.username': 'alice', dc: 1 },
      { 'user.username': 'system:node:worker-1', dc: 1 },
      { 'user.username': 'system:serviceaccount:production:web-app', dc: 1 },
    ]);
  });
  it('bins by time window and groups within windows', () => {
    const out = rows('| bin 10m | count by verb | sort window');
    expect(out.columns).toEqual(['window', 'verb', 'count']);
    expect(out.rows).toEqual([
      { window: '2026-11-27T09:10:00Z', verb: 'get', count: 1 },
      { window: '2026-11-27T09:10:00Z', verb: 'create', count: 1 },
      { window: '2026-11-27T09:20:00Z', verb: 'get', count: 1 },
      { window: '2026-11-27T10:00:00Z', verb: 'list', count: 1 },
    ]);
    expect(rows('| bin 1h | count | where window >= "2026-11-27T10:00:00Z"').rows).toEqual([{ window: '2026-11-27T10:00:00Z', count: 1 }]);
  });
  it('sorts events and takes the head; a streaming head stops early', () => {
    expect(ids('| sort -requestReceivedTimestamp | head 2')).toEqual(['d', 'c']);
    let pulled = 0;
    const source = (function* () {
      for (const event of events) {
        pulled++;
        yield event;
      }
    })();
    expect(runQuery(parseQuery('| head 1'), source)).toMatchObject({ kind: 'events', total: 1 });
    expect(pulled).toBe(1);
  });
  it('filters with where before an aggregation', () => {
    expect(rows('| where verb == "get" | count by user.username | sort user.username').rows.map((r) => r.count)).toEqual([1, 1]);
  });
});

describe('limits', () => {
  it('refuses to compile a condition deeper than the parser can produce, so evaluation never recurses further', () => {
    let deep: Expr = parseQuery('verb == "get"').filter!;
    for (let i = 0; i < 5000; i++) deep = { type: 'not', expr: deep };
    expect(() => compile(deep)).toThrow(QueryError);
    expect(() => compile(deep)).toThrow(`nested more than ${MAX_TREE_DEPTH} levels deep`);
    // The deepest tree the parser accepts compiles and evaluates.
    const deepest = parseQuery(`${'NOT ('.repeat(32)}verb == "get" OR verb == "list"${')'.repeat(32)}`).filter!;
    expect(compile(deepest)(events[0])).toBe(true);
  });
});
