import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { auditLogEnd, parseAuditLine, readAuditLog } from './audit-log.ts';
import type { AuditEvent } from './types.ts';

function event(auditID: string, verb = 'get'): string {
  return JSON.stringify({
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID,
    stage: 'ResponseComplete',
    requestURI: '/api/v1/namespaces',
    verb,
    user: { username: 'system:admin' },
    sourceIPs: ['127.0.0.1'],
    responseStatus: { code: 200 },
  });
}

async function collect(iterable: AsyncIterable<AuditEvent>): Promise<string[]> {
  const ids: string[] = [];
  for await (const e of iterable) ids.push(e.auditID);
  return ids;
}

let dir: string;
let log: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'irlab-audit-'));
  log = join(dir, 'audit.log');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('readAuditLog', () => {
  it('reads every complete line and holds back a partial last line', async () => {
    await writeFile(log, `${event('a')}\n${event('b')}\n${event('c').slice(0, 40)}`);
    expect(await collect(readAuditLog(log))).toEqual(['a', 'b']);
  });

  it('resumes from an offset, e.g. the end of the log before a request', async () => {
    await writeFile(log, `${event('a')}\n`);
    const end = await auditLogEnd(log);
    await appendFile(log, `${event('b')}\n`);
    expect(await collect(readAuditLog(log, { fromOffset: end }))).toEqual(['b']);
  });

  it('reports resume offsets that land just after each event', async () => {
    await writeFile(log, `${event('a')}\n${event('b')}\n`);
    const offsets: number[] = [];
    await collect(readAuditLog(log, { onOffset: (o) => offsets.push(o) }));
    expect(offsets).toEqual([event('a').length + 1, event('a').length + event('b').length + 2]);
  });

  it('follows appends, including a line written in two pieces, until aborted', async () => {
    await writeFile(log, `${event('a')}\n`);
    const abort = new AbortController();
    const seen: string[] = [];
    const reader = (async () => {
      for await (const e of readAuditLog(log, { follow: true, signal: abort.signal, pollMs: 20 })) {
        seen.push(e.auditID);
        if (seen.length === 3) abort.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 60));
    const line = event('b');
    await appendFile(log, line.slice(0, 25));
    await new Promise((r) => setTimeout(r, 60));
    await appendFile(log, `${line.slice(25)}\n${event('c')}\n`);
    await reader;
    expect(seen).toEqual(['a', 'b', 'c']);
  });

  it('starts over when the file is truncated (log rotated)', async () => {
    await writeFile(log, `${event('a')}\n${event('b')}\n`);
    const abort = new AbortController();
    const seen: string[] = [];
    const reader = (async () => {
      for await (const e of readAuditLog(log, { follow: true, signal: abort.signal, pollMs: 20 })) {
        seen.push(e.auditID);
        if (seen.length === 3) abort.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 60));
    await writeFile(log, `${event('z')}\n`);
    await reader;
    expect(seen).toEqual(['a', 'b', 'z']);
  });

  it('ends a follower quietly when the cluster (and its log) is deleted', async () => {
    await writeFile(log, `${event('a')}\n`);
    const reader = collect(readAuditLog(log, { follow: true, pollMs: 20 }));
    await new Promise((r) => setTimeout(r, 60));
    await rm(log);
    expect(await reader).toEqual(['a']);
  });

  it('rejects lines that are not audit events', () => {
    expect(() => parseAuditLine('{"kind":"Status"}')).toThrow(/not an audit.k8s.io\/v1 Event/);
    expect(() => parseAuditLine('I1127 klog line')).toThrow(/not JSON/);
    expect(parseAuditLine(event('x')).verb).toBe('get');
  });
});
