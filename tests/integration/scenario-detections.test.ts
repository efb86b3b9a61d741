// The five built-in detections on a REAL audit log: the compromised-web-app scenario seeded into
// an embedded cluster. Each rule must fire on the attacker and on nobody else (benign actors,
// controllers, the seeder), and `irlab detect --cluster` must say the same.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAuditLog } from '../../src/server/cluster/audit-log.ts';
import { EmbeddedProvider } from '../../src/server/cluster/embedded-provider.ts';
import type { AuditEvent, ClusterInfo } from '../../src/server/cluster/types.ts';
import { DETECTIONS } from '../../src/lib/query/detections.ts';
import { flaggedEvents } from '../../src/lib/query/grading.ts';
import { parseQuery } from '../../src/lib/query/parser.ts';
import { detectCommand } from '../../src/server/query/cli.ts';
import type { AnswerKey } from '../../src/server/scenarios/answer-key.ts';
import { loadScenario } from '../../src/server/scenarios/load.ts';
import { seedScenario } from '../../src/server/scenarios/seed.ts';
import { SEEDER_AGENT } from '../../src/server/scenarios/world.ts';

let work: string;
let provider: EmbeddedProvider;
let cluster: ClusterInfo;
let key: AnswerKey;
const events: AuditEvent[] = [];

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'irlab-detect-it-'));
  provider = new EmbeddedProvider({ workDir: path.join(work, 'kwok') });
  const { loaded } = await loadScenario(process.cwd(), 'scenarios/compromised-web-app');
  cluster = await provider.create({ name: `det-${randomBytes(3).toString('hex')}` });
  key = (await seedScenario(cluster, loaded!, { seed: 'detections', answerKeys: path.join(work, 'keys') })).answerKey;
  for await (const event of readAuditLog(cluster.auditLogPath)) events.push(event);
}, 180_000);

afterAll(async () => {
  await provider.delete(cluster.name).catch(() => {});
  await rm(work, { recursive: true, force: true });
}, 60_000);

const attacker = (event: AuditEvent) => key.attacker.sourceIPs.includes(event.sourceIPs?.[0] ?? '');
// Building the world is the cluster's history, not the incident: it is visible in the log as
// the admin with this user agent, before the first scenario step.
const setup = (event: AuditEvent) => event.userAgent === SEEDER_AGENT || controlPlaneAsAdmin(event);
// The embedded engine's kube-controller-manager authenticates with the admin's certificate (its
// controllers use their own service accounts, but its root client, e.g. the tokens controller,
// does not): its requests are the control plane's, not a benign actor's (docs/engine.md).
const controlPlaneAsAdmin = (event: AuditEvent) => /^kube-controller-manager\//.test(event.userAgent ?? '') && !event.user.username?.startsWith('system:');

describe.each(DETECTIONS.map((rule) => [rule.id, rule] as const))('detection %s', (_id, rule) => {
  it('fires on the attacker and stays quiet on everyone else', () => {
    const flagged = flaggedEvents(parseQuery(rule.query), events) as AuditEvent[];
    expect(flagged.length).toBeGreaterThan(0);
    const innocent = flagged.filter((e) => !attacker(e) && !setup(e)).map((e) => `${e.user.username} ${e.verb} ${e.requestURI}`);
    expect(innocent).toEqual([]);
  });
});

describe('irlab detect --cluster', () => {
  it('reports every rule firing on this cluster', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await detectCommand(['--cluster', cluster.name, '--format', 'json'], {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      providers: () => [provider],
    });
    expect(code, err.join('\n')).toBe(0);
    const text = out.join('\n');
    for (const rule of DETECTIONS) expect(text).toContain(rule.id);
  });
});
