import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleQuery, registry, type SourceRegistry } from './http.ts';
import { FileAuditLogSource } from './source.ts';
import { serverSources } from './sources.ts';
import { seededRandom, syntheticLog, toAuditLine } from './synthetic-audit-log.ts';

let dir: string;
let sources: SourceRegistry;
let attackerIds: Set<string>;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'irlab-http-'));
  const log = syntheticLog({ random: seededRandom(5), background: 1500, attackAt: 0.5 });
  attackerIds = log.attackerAuditIds;
  const file = path.join(dir, 'audit.log');
  await writeFile(file, `${log.events.map(toAuditLine).join('\n')}\nnot json\n`);
  sources = registry([new FileAuditLogSource(file, 'lab-1')]);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('POST /api/query', () => {
  it('returns a page of events, the sidebar, the timeline and what detections flagged', async () => {
    const { status, body } = await handleQuery({ source: 'lab-1', query: 'objectRef.resource == "secrets"', limit: 5, highlight: ['system:serviceaccount:production:web-app'] }, sources);
    expect(status).toBe(200);
    if (!body.ok) throw new Error(body.error.message);
    expect(body.output.kind).toBe('events');
    if (body.output.kind !== 'events') return;
    expect(body.output.events).toHaveLength(5);
    expect(body.output.total).toBeGreaterThan(5);
    const users = body.summary.fields.find((f) => f.field === 'user.username')!;
    expect(users.present).toBe(body.output.total);
    const highlighted = body.summary.timeline.reduce((n, b) => n + b.highlighted, 0);
    expect(highlighted).toBe(6); // the attacker's six secret reads
    expect(body.flagged).toEqual([{ username: 'system:serviceaccount:production:web-app', rules: ['secret-enumeration', 'rbac-escalation', 'pod-exec-production', 'sa-token-theft', 'kube-system-token-request', 'kube-system-workload', 'host-access-pod'] }]);
    expect(body.scan).toMatchObject({ malformed: 1, malformedLines: [{ line: 1512, reason: expect.stringContaining('not a JSON object') }] });
  });

  it('never sends the answer key', async () => {
    const { body } = await handleQuery({ source: 'lab-1', query: '| count' }, sources);
    const text = JSON.stringify(body);
    expect(text).not.toMatch(/answer|attackerAuditIds/i);
    for (const id of attackerIds) expect(text).not.toContain(id);
  });

  it('returns aggregation rows', async () => {
    const { body } = await handleQuery({ source: 'lab-1', query: '| count by verb | sort -count | head 3' }, sources);
    expect(body.ok && body.output.kind === 'rows' && body.output.columns).toEqual(['verb', 'count']);
  });

  it('explains a bad query with its column and a suggestion', async () => {
    const { status, body } = await handleQuery({ source: 'lab-1', query: 'verb == "get" ANDD x' }, sources);
    expect(status).toBe(400);
    expect(body).toEqual({ ok: false, error: { message: 'unknown keyword "ANDD"', column: 15, length: 4, hint: 'did you mean AND?' } });
  });

  it('explains a bad body and an unknown source', async () => {
    const bad = await handleQuery({ source: 'lab-1', query: 3, extra: true }, sources);
    expect(bad.status).toBe(400);
    expect(!bad.body.ok && bad.body.error.message).toMatch(/query: expected string.*extra: unknown field "extra"/);
    const unknown = await handleQuery({ source: 'nope', query: '' }, sources);
    expect(unknown).toMatchObject({ status: 404, body: { ok: false, error: { message: 'no audit log source "nope"', hint: 'known sources: lab-1' } } });
    expect(serverSources(undefined).ids()).toEqual([]);
    expect(serverSources('/var/log/kube/audit.log').ids()).toEqual(['file']);
  });
});

describe('a lab source hides irlab\'s own probes', () => {
  it('leaves events sent with a hidden user agent out of the results, the sidebar and the detections', async () => {
    const file = path.join(dir, 'probed.log');
    const event = (auditID: string, userAgent: string) =>
      JSON.stringify({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID, stage: 'ResponseComplete', requestURI: '/api/v1/namespaces/production/secrets', verb: 'list', user: { username: 'system:serviceaccount:production:web-app' }, sourceIPs: ['192.0.2.250'], userAgent, objectRef: { resource: 'secrets', namespace: 'production', apiVersion: 'v1' }, responseStatus: { code: 200 }, requestReceivedTimestamp: '2026-12-07T10:00:00.000000Z', stageTimestamp: '2026-12-07T10:00:00.001000Z' });
    await writeFile(file, `${event('a-1', 'kubectl/v1.37.2')}\n${event('probe-1', 'irlab-policy-probe')}\n`);
    const plain = await handleQuery({ source: 'p', query: 'objectRef.resource == "secrets"' }, registry([new FileAuditLogSource(file, 'p')]));
    const hiding = await handleQuery({ source: 'p', query: 'objectRef.resource == "secrets"' }, registry([new FileAuditLogSource(file, 'p', ['irlab-policy-probe'])]));
    if (!plain.body.ok || !hiding.body.ok) throw new Error('query failed');
    if (plain.body.output.kind !== 'events' || hiding.body.output.kind !== 'events') throw new Error('expected events');
    expect(plain.body.output.events.map((e) => (e as { auditID: string }).auditID)).toEqual(['a-1', 'probe-1']);
    expect(hiding.body.output.events.map((e) => (e as { auditID: string }).auditID)).toEqual(['a-1']);
    expect(hiding.body.summary.fields.find((f) => f.field === 'userAgent')?.present).toBe(1);
  });
});
