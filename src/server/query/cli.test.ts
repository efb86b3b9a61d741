import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { detectCommand, queryCommand, type Io } from './cli.ts';
import { seededRandom, syntheticEvents, toAuditLine } from './synthetic-audit-log.ts';

let dir: string;
let file: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'irlab-query-cli-'));
  file = path.join(dir, 'audit.log');
  const lines = [...syntheticEvents({ random: seededRandom(4), background: 2000, attackAt: 0.5 })].map(({ event }) => toAuditLine(event));
  lines.splice(10, 0, '{"kind":"Event","verb":'); // a torn write
  await writeFile(file, `${lines.join('\n')}\n`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function capture(command: (args: string[], io: Io) => Promise<number>, args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await command(args, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('irlab query', () => {
  it('prints one JSON event per line', async () => {
    const { code, out, err } = await capture(queryCommand, ['user.username == "*:production:web-app" AND objectRef.resource == "secrets"', '--file', file, '--format', 'json']);
    expect(code).toBe(0);
    const events = out.split('\n').map((l) => JSON.parse(l));
    expect(events).toHaveLength(6);
    expect(events.every((e) => e.objectRef.resource === 'secrets')).toBe(true);
    expect(err).toMatch(/^6 matching events; scanned 2012 lines/);
    expect(err).toContain('1 malformed line skipped:\n  line 11: not a JSON object (truncated or garbled line)');
  });

  it('prints aggregation rows as JSON lines, CSV and a table', async () => {
    const q = 'objectRef.resource == "secrets" AND verb in ("get", "list") | count by user.username | sort -count | head 2';
    const json = await capture(queryCommand, [q, '--file', file, '--format', 'json']);
    const rows = json.out.split('\n').map((l) => JSON.parse(l));
    expect(rows).toHaveLength(2);
    expect(Object.keys(rows[0])).toEqual(['user.username', 'count']);
    expect(rows[0].count).toBeGreaterThanOrEqual(rows[1].count);
    const csv = await capture(queryCommand, [q, '--file', file, '--format', 'csv']);
    expect(csv.out.split('\n')[0]).toBe('user.username,count');
    expect(csv.out.split('\n')[1]).toBe(`${rows[0]['user.username']},${rows[0].count}`);
    const table = await capture(queryCommand, [q, '--file', file]);
    expect(table.out.split('\n')[0]).toMatch(/^user\.username\s+count$/);
  });

  it('prints events as CSV with a header, quoting where needed', async () => {
    const { out } = await capture(queryCommand, ['verb == "create" AND objectRef.resource == "clusterrolebindings"', '--file', file, '--format', 'csv']);
    const [header, line] = out.split('\n');
    expect(header).toBe('time,user,verb,resource,namespace,name,code,sourceIPs,auditID');
    expect(line).toContain(',system:serviceaccount:production:web-app,create,clusterrolebindings,,web-app-admin,201,203.0.113.50 10.244.2.17,');
  });

  it('shows a bad query with a caret and a suggestion, exit 2', async () => {
    const { code, err } = await capture(queryCommand, ['objectRef.resorce == "secrets"', '--file', file]);
    expect(code).toBe(2);
    expect(err).toContain('column 1: unknown field "objectRef.resorce"\nfix: did you mean objectRef.resource');
  });

  it('names an unknown --cluster and says how to find the right one', async () => {
    const { code, err } = await capture(queryCommand, ['verb == "get"', '--cluster', 'no-such-cluster-here']);
    expect(code).toBe(2);
    expect(err).toMatch(/no cluster named "no-such-cluster-here"[\s\S]*irlab cluster list/);
  });

  it('explains missing arguments and a bad format', async () => {
    expect((await capture(queryCommand, ['--file', file])).err).toContain('give the query as one quoted argument');
    expect((await capture(queryCommand, ['| count'])).err).toContain('--file audit.log or --cluster N');
    expect((await capture(queryCommand, ['| count', '--file', file, '--format', 'xml'])).err).toContain('use table, json, csv');
  });
});

describe('irlab detect', () => {
  it('runs every detection in one pass and shows what fired', async () => {
    const { code, out, err } = await capture(detectCommand, ['--file', file]);
    expect(code).toBe(0);
    for (const id of ['secret-enumeration', 'rbac-escalation', 'pod-exec-production', 'sa-token-theft', 'kube-system-token-request', 'kube-system-workload', 'host-access-pod']) expect(out).toMatch(new RegExp(`^!! ${id} `, 'm'));
    expect(err).toMatch(/^7 of 7 detections fired/);
  });

  it('prints one JSON alert per line', async () => {
    const { out } = await capture(detectCommand, ['--file', file, '--format', 'json']);
    const alerts = out.split('\n').map((l) => JSON.parse(l));
    expect(new Set(alerts.map((a) => a.rule)).size).toBe(7);
    expect(alerts.find((a) => a.rule === 'kube-system-workload')).toMatchObject({ attack: ['T1610', 'T1543'], level: 'critical', event: { verb: 'create' } });
    expect(alerts.find((a) => a.rule === 'host-access-pod')).toMatchObject({ attack: ['T1611', 'T1610'], level: 'critical', event: { verb: 'create' } });
    expect(alerts.find((a) => a.rule === 'secret-enumeration').row['user.username']).toBe('system:serviceaccount:production:web-app');
  });

  it('exports rules as Sigma and Falco', async () => {
    const sigma = await capture(detectCommand, ['--sigma', 'pod-exec-production']);
    expect(parse(sigma.out)).toMatchObject({ logsource: { product: 'kubernetes', service: 'audit' }, tags: ['attack.execution', 'attack.t1609'] });
    const falco = await capture(detectCommand, ['--falco']);
    expect((parse(falco.out) as unknown[]).length).toBe(7);
    expect((await capture(detectCommand, ['--sigma', 'nope'])).err).toContain('no detection "nope"');
    expect((await capture(detectCommand, ['--list'])).out).toMatch(/sa-token-theft\s+T1528 T1552\.007\s+critical/);
  });
});

describe('through the binary', () => {
  it('is wired into irlab', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.resolve('bin/irlab.mjs'), 'query', '| count', '--file', file, '--format', 'json']);
    expect(JSON.parse(stdout)).toEqual({ count: 2011 });
  });
});

describe('output formats', () => {
  it('quotes CSV cells with commas, quotes and line breaks', async () => {
    const { csvCell } = await import('./format.ts');
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(['x', 'y'])).toBe('"[""x"",""y""]"');
  });
});
