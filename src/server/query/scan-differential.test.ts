/**
 * The fast paths of `irlab query` and `irlab detect` against the scanner as it was before issue 17
 * (scan-before.fixture.ts): on generated audit logs salted with tricky lines (escaped quotes and
 * slashes, a hidden literal, unicode cut across reads, CRLF, blank and malformed lines, a line
 * longer than a read, no final newline), every query answers the same, with the same report,
 * scanned in one thread or in parts by worker threads, with reads small enough to cut lines.
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DETECTIONS } from '../../lib/query/detections.ts';
import { parseQuery } from '../../lib/query/parser.ts';
import { createRun, type QueryOutput } from '../../lib/query/pipeline.ts';
import { requiredLiterals } from '../../lib/query/prefilter.ts';
import { defaultThreads, scanFileInParts } from './parallel-scan.ts';
import { runDetections, runQueryOnSource } from './run.ts';
import { scanFile as scanBefore } from './scan-before.fixture.ts';
import type { ScanReport } from './scan.ts';
import { FileAuditLogSource } from './source.ts';
import { seededRandom, syntheticEvents, toAuditLine } from './synthetic-audit-log.ts';

const ATTACKER = 'system:serviceaccount:production:web-app';

/** Lines that have broken scanners before, or could. */
function trickyLines(): string[] {
  const base = { kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', stage: 'ResponseComplete', requestReceivedTimestamp: '2026-11-27T10:00:00.000000Z', stageTimestamp: '2026-11-27T10:00:00.001000Z' };
  const event = (id: string, extra: object) => JSON.stringify({ ...base, auditID: id, ...extra });
  return [
    // The attacker's name written with an escaped "-": the literal is not in the raw bytes.
    event('hidden-1', { verb: 'get', user: { username: 'system:serviceaccount:production:web-app' }, objectRef: { resource: 'secrets', namespace: 'production' }, sourceIPs: ['203.0.113.50'] }).replace('web-app', 'web\\u002dapp'),
    event('slash-1', { verb: 'list', requestURI: '/api/v1/secrets', user: { username: ATTACKER }, objectRef: { resource: 'secrets' }, sourceIPs: ['203.0.113.50'] }).replaceAll('/', '\\/'),
    event('quotes-1', { verb: 'get', userAgent: 'curl "quoted" \\ back', user: { username: ATTACKER }, objectRef: { resource: 'secrets', name: 'a "b" c' }, sourceIPs: ['203.0.113.50'] }),
    event('unicode-1', { verb: 'create', user: { username: 'é-ünï-😀-用户' }, objectRef: { resource: 'clusterrolebindings', apiGroup: 'rbac.authorization.k8s.io', name: 'ß😀' }, sourceIPs: ['203.0.113.50'] }),
    `${event('crlf-1', { verb: 'patch', user: { username: ATTACKER }, objectRef: { resource: 'clusterrolebindings', apiGroup: 'rbac.authorization.k8s.io' } })}\r`,
    '',
    '   \t',
    `{"auditID":"truncated","verb":"get","user":{"username":"${ATTACKER}`,
    `not json, but it names ${ATTACKER} and 203.0.113.50`,
    '[1, 2, 3]',
    'null',
    `{"auditID":"garbled","verb":get,"user":{"username":"${ATTACKER}"}}`,
    event('long-1', { verb: 'create', user: { username: ATTACKER }, objectRef: { resource: 'pods', namespace: 'production', subresource: 'exec' }, requestObject: { pad: 'x'.repeat(300_000) }, sourceIPs: ['203.0.113.50'] }),
    event('privileged-1', { verb: 'create', user: { username: ATTACKER }, objectRef: { resource: 'pods', namespace: 'production' }, requestObject: { spec: { hostPID: true, containers: [{ securityContext: { privileged: true } }] } } }),
    `  ${event('spaces-1', { verb: 'get', user: { username: ATTACKER }, objectRef: { resource: 'secrets', name: 'x-token' } })}  `,
  ];
}

/** A synthetic log (with its attack) and the tricky lines spread through it, no final newline. */
function generatedLog(seed: number, events: number): string {
  const random = seededRandom(seed);
  const lines = [...syntheticEvents({ random, background: events, attackAt: 0.5 })].map(({ event }) => toAuditLine(event));
  const tricky = trickyLines();
  for (const [i, line] of tricky.entries()) lines.splice(Math.floor((lines.length * (i + 1)) / (tricky.length + 1)), 0, line);
  lines.push(tricky[0]!, tricky[7]!);
  return lines.join('\n');
}

const QUERIES = [
  `user.username == "${ATTACKER}"`,
  'sourceIPs == "203.0.113.50"',
  'verb in ("create", "patch", "update") AND objectRef.resource == "clusterrolebindings"',
  'objectRef.resource == "secrets" | count by user.username',
  'requestObject.spec.hostPID == true OR requestObject.spec.containers.securityContext.privileged == true',
  'responseStatus.code >= 400 | count by responseStatus.code',
  'user.username == "é-ünï-😀-用户"',
  'verb == "get" AND objectRef.resource == "secrets" | sort objectRef.name | head 7',
  'verb == "list" | head 3',
  '| count',
  'verb != "get" | dc(objectRef.namespace) by user.username',
];

async function before(file: string, queryText: string, prefilter: boolean, chunkSize: number) {
  const query = parseQuery(queryText);
  const run = createRun(query);
  const report = await scanBefore(file, [{ clauses: requiredLiterals(query), push: (e) => run.push(e) }], { prefilter, chunkSize });
  return { output: run.finish(), report };
}

/** The report without the field the old scanner did not have. */
function comparable(report: ScanReport | Omit<ScanReport, 'physicalLines'>) {
  const { physicalLines: _, ...rest } = { physicalLines: 0, ...report };
  return rest;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'irlab-scan-diff-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('fast scan paths against the scanner before issue 17', () => {
  for (const seed of [1, 2]) {
    it(`answers every query the same (log ${seed})`, { timeout: 180_000 }, async () => {
      const file = path.join(dir, `audit-${seed}.log`);
      await writeFile(file, generatedLog(seed, 2500));
      const source = await FileAuditLogSource.open(file);
      for (const q of QUERIES) {
        const everyLine = await before(file, q, false, 1 << 20);
        const old = await before(file, q, true, 4096);
        expect(old.output, q).toEqual(everyLine.output);
        const ways = [
          { name: 'one thread', options: { parts: false, chunkSize: 4096 } },
          { name: 'three parts', options: { threads: 3, minBytes: 1, chunkSize: 4096 } },
          { name: 'two parts, big reads', options: { threads: 2, minBytes: 1 } },
        ];
        for (const way of ways) {
          const now = await runQueryOnSource(source, q, way.options);
          expect(now.output, `${q} (${way.name})`).toEqual(everyLine.output);
          // Same lines parsed and the same malformed lines, numbered for the whole file.
          const reference = await before(file, q, true, way.options.chunkSize ?? 4 << 20);
          if (!reference.report.stoppedEarly) expect(comparable(now.report), `${q} (${way.name})`).toEqual(comparable(reference.report));
        }
      }
    });
  }

  it('runs the detections in parts with the same results', { timeout: 180_000 }, async () => {
    const file = path.join(dir, 'audit-detect.log');
    await writeFile(file, generatedLog(3, 3000));
    const source = await FileAuditLogSource.open(file);
    const oneThread = await runDetections(source, { parts: false });
    const parts = await runDetections(source, { threads: 3, minBytes: 1, chunkSize: 8192 });
    const outputs = (r: { results: { rule: { id: string }; output: QueryOutput }[] }) => r.results.map(({ rule, output }) => [rule.id, output]);
    expect(outputs(parts)).toEqual(outputs(oneThread));
    for (const rule of DETECTIONS) {
      const old = await before(file, rule.query, false, 1 << 20);
      expect(oneThread.results.find((r) => r.rule.id === rule.id)!.output, rule.id).toEqual(old.output);
    }
    expect(comparable(parts.report)).toEqual(comparable(oneThread.report));
    expect(parts.report.malformedLines.length).toBeGreaterThan(0);
  });

  it('really scans in parts when it may (the comparisons above are not all one-thread fallbacks)', async () => {
    const file = path.join(dir, 'audit-parts.log');
    await writeFile(file, generatedLog(5, 1000));
    const query = parseQuery(`user.username == "${ATTACKER}"`);
    const run = createRun(query);
    const report = await scanFileInParts(file, (await stat(file)).size, [{ query, text: `user.username == "${ATTACKER}"`, push: (e) => run.push(e) }], { threads: 3, minBytes: 1 });
    expect(report).toBeDefined();
    expect(report!.malformed).toBeGreaterThan(0);
    const head = parseQuery('verb == "get" | head 2');
    expect(await scanFileInParts(file, (await stat(file)).size, [{ query: head, text: 'verb == "get" | head 2', push: () => true }], { threads: 3, minBytes: 1 })).toBeUndefined();
  });

  it('uses the idle cores by default, at least one, at most four', () => {
    expect(defaultThreads(2, 0.1)).toBe(2);
    expect(defaultThreads(2, 1.2)).toBe(1);
    expect(defaultThreads(2, 25)).toBe(1);
    expect(defaultThreads(16, 0)).toBe(4);
    expect(defaultThreads(1, 0)).toBe(1);
  });

  it('falls back to one thread when the selected lines would be too many to hand over', async () => {
    const file = path.join(dir, 'audit-wide.log');
    await writeFile(file, generatedLog(4, 1500));
    const source = await FileAuditLogSource.open(file);
    const wide = await runQueryOnSource(source, 'verb != "nothing"', { threads: 2, minBytes: 1, maxSelectedBytes: 10_000 });
    const old = await before(file, 'verb != "nothing"', true, 4 << 20);
    expect(wide.output).toEqual(old.output);
    expect(comparable(wide.report)).toEqual(comparable(old.report));
  });
});
