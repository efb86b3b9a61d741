// Which audit log a query may read, with the real drill service deciding who is a participant:
// a drill's participant queries that drill's cluster log (results come back through the same
// handler as a lab's); an outsider, the facilitator's browser without a seat, or another drill's
// participant is refused with the status the drill service gives; an unknown drill is a 404.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDrills } from '../drill/project-drills.ts';
import type { DrillRuntime } from '../drill/runtime.ts';
import { drillService, type DrillService } from '../drill/service.ts';
import { learnerService } from '../learners/learners.ts';
import { allMigrations, openSqliteStore } from '../store/index.ts';
import type { SqlStore } from '../store/sql-store.ts';
import { handleQuery } from './http.ts';
import { sourcesFor, type SourceOwners } from './learner-sources.ts';
import { seededRandom, syntheticLog, toAuditLine } from './synthetic-audit-log.ts';

let work: string;
let store: SqlStore;
let service: DrillService;
const people: Record<string, string> = {};
let drillA: { id: string; token: string };
let drillB: { id: string; token: string };
let lines: number;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'irlab-query-sources-'));
  store = await openSqliteStore(path.join(work, 'irlab.db'), allMigrations);
  // Each drill cluster has its own log: A's holds the synthetic incident, B's one line.
  const log = syntheticLog({ random: seededRandom(3), background: 200, attackAt: 0.5 });
  lines = log.events.length;
  await writeFile(path.join(work, 'drill-cluster-a.log'), `${log.events.map(toAuditLine).join('\n')}\n`);
  await writeFile(path.join(work, 'drill-cluster-b.log'), `${toAuditLine(log.events[0])}\n`);
  let clusters = 0;
  const runtime: DrillRuntime = {
    prepare: async () => (clusters++ === 0 ? 'drill-cluster-a' : 'drill-cluster-b'),
    exists: async () => true,
    values: async () => ({}),
    evaluate: async () => ({ passed: false, score: 0, criteria: [] }),
    attack: async () => [],
    participantKubeconfig: async () => '/dev/null',
    auditEvents: async () => [],
    auditLogPath: async (cluster) => path.join(work, `${cluster}.log`),
    answerKey: async () => Promise.reject(new Error('none')),
    release: async () => {},
  };
  const drills = await loadDrills(process.cwd());
  service = drillService({ store, drills: async () => drills, runtime });
  const learners = learnerService({ store });
  for (const name of ['ada', 'bo', 'eve']) people[name] = (await learners.create()).learner.id;
  const make = async () => {
    const { drill, facilitatorToken } = await service.create({ scenario: 'compromised-web-app', durationMinutes: 15, roles: ['Investigator'] });
    await service.prepared(drill.id);
    return { id: drill.id, code: drill.code, token: facilitatorToken };
  };
  const a = await make();
  const b = await make();
  await service.join(a.code, people.ada!, 'Ada', 'Investigator');
  await service.join(b.code, people.bo!, 'Bo', 'Investigator');
  drillA = a;
  drillB = b;
});
afterAll(async () => {
  await store?.close();
  await rm(work, { recursive: true, force: true });
});

const labLookups: string[] = [];
const owners = (): SourceOwners => ({
  file: undefined,
  labAuditLog: async (learnerId) => {
    labLookups.push(learnerId);
    return undefined;
  },
  drillAuditLog: (drillId, learnerId) => service.auditLog(drillId, learnerId ? { learnerId } : {}),
});

async function query(source: string, learnerId: string | undefined) {
  const body = { source, query: 'objectRef.resource == "secrets" | count by user.username' };
  const resolved = await sourcesFor(body, learnerId, owners());
  return 'refused' in resolved ? resolved.refused : handleQuery(body, resolved.sources);
}

describe('audit log sources of a query', () => {
  it('locks a drill\'s log until the clock starts, then its participant gets results from that drill\'s cluster', async () => {
    const locked = await query(`drill:${drillA.id}`, people.ada);
    expect(locked.status).toBe(423);
    expect(!locked.body.ok && locked.body.error.message).toMatch(/wait for the start/);
    await service.control(drillA.id, { facilitatorToken: drillA.token }, 'start');
    await service.control(drillB.id, { facilitatorToken: drillB.token }, 'start');
    const answer = await query(`drill:${drillA.id}`, people.ada);
    expect(answer.status).toBe(200);
    if (!answer.body.ok || answer.body.output.kind !== 'rows') throw new Error('expected rows');
    expect(answer.body.output.rows.map((r) => r['user.username'])).toContain('system:serviceaccount:production:web-app');
    expect(answer.body.scan.lines).toBe(lines); // drill A's log, not B's
    expect(labLookups).toEqual([]); // a drill query never makes or recovers a lab cluster
  });

  it('refuses outsiders, another drill\'s participant and unknown drills', async () => {
    for (const [who, status] of [[people.bo, 403], [people.eve, 403], [undefined, 403]] as const) {
      const refused = await query(`drill:${drillA.id}`, who);
      expect(refused.status).toBe(status);
      expect(JSON.stringify(refused.body)).not.toContain('drill-cluster-a');
    }
    expect((await query('drill:drl_nope', people.ada)).status).toBe(404);
    // A source that only looks like a drill is an unknown source, not a path.
    expect((await query(`drill:../${drillA.id}`, people.ada)).status).toBe(404);
  });

  it('looks the learner\'s lab up only for a query of the lab: another source never recovers (or, on a front, asks for) a cluster', async () => {
    labLookups.length = 0;
    for (const source of ['file', 'nope', `drill:${drillB.id}`]) await query(source, people.bo);
    expect(labLookups).toEqual([]);
    const lab = await query('lab', people.bo);
    expect(labLookups).toEqual([people.bo]);
    // No lab running: the lab source is unknown, and the answer says how to get one.
    expect(lab.status).toBe(404);
  });
});
