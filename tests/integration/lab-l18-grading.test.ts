// Issue 16 on a REAL embedded cluster: the evidence and investigate steps of L18 judge real
// outputs and exact answers, accept every correct variant (the server-observed source IP, every
// secret a list returned), give nothing of the answer key away in their feedback, and repeated
// checks of an answer step cost points after three free ones, priced before the press.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAuditLog } from '../../src/server/cluster/audit-log.ts';
import type { LoadedLab } from '../../src/server/lab/labs.ts';
import { workspaceUnder, type LabService } from '../../src/server/lab/service.ts';
import { fillSolution } from '../../src/server/lab/solution.ts';
import type { AnswerKey } from '../../src/server/scenarios/answer-key.ts';
import type { SqlStore } from '../../src/server/store/index.ts';
import { startL18Lab, type L18Lab } from './fixtures/l18-lab.ts';

let fixture: L18Lab;
let work: string;
let store: SqlStore;
let lab: LoadedLab;
let learner: string;
let key: AnswerKey;
let auditLogPath: string;

const service = (): LabService => fixture.service();
const workspace = () => workspaceUnder(work)(learner);

async function sh(commands: string[]): Promise<string> {
  return (await fixture.sh(commands, key)).map((r) => r.output).join('');
}

/** Every string in the answer key a wrong answer's feedback must not contain. */
function keyStrings(): string[] {
  const strings = new Set<string>([
    key.compromisedPod.name, key.compromisedPod.uid, key.compromisedPod.ip, ...key.attacker.sourceIPs, ...key.attacker.usernames,
    ...key.secretsRead.filter((s) => !s.endsWith('/*')), ...key.secretsRead.map((s) => s.split('/')[1]!).filter((s) => s !== '*'),
    ...key.bindingsCreated.flatMap((b) => [b.name, b.role]), ...key.execs.flatMap((e) => [e.pod, ...e.command.filter((c) => c.length > 3)]),
    ...key.podsCreated.map((p) => p.name), key.firstMaliciousAt, key.firstMaliciousAt.slice(0, 16),
  ]);
  return [...strings].filter((s) => s.length > 3);
}

beforeAll(async () => {
  fixture = await startL18Lab('irlab-grading-it-');
  ({ work, store, lab, learner } = fixture);
  key = await fixture.key();
  auditLogPath = (await fixture.cluster()).auditLogPath;
}, 180_000);

afterAll(async () => fixture?.close(), 60_000);

describe('evidence on a real cluster', () => {
  it('fails two-line forgeries by criterion, without naming the compromised pod', async () => {
    const { name, namespace, uid } = key.compromisedPod;
    await writeFile(path.join(workspace(), 'pod-evidence.yaml'), `kind: Pod\nmetadata:\n  uid: ${uid}\n`);
    await writeFile(path.join(workspace(), 'pod-describe.txt'), `Name: ${name}\nNamespace: ${namespace}\n`);
    const view = await service().check(learner, 'l18', 'evidence', {});
    const failed = view.result!.criteria.filter((c) => !c.passed).map((c) => c.id);
    expect(failed).toEqual(expect.arrayContaining(['manifest', 'describe', 'logs', 'filesystem']));
    for (const c of view.result!.criteria) for (const value of [name, uid, key.compromisedPod.ip]) expect(c.message).not.toContain(value);
  });

  it('fails another pod\'s real output, and passes the compromised pod\'s', async () => {
    const other = (await sh(['kubectl get pods -n production -l app=web-app -o name'])).split('\n').map((s) => s.replace('pod/', '').trim()).find((p) => p && p !== key.compromisedPod.name)!;
    expect(other).toBeTruthy();
    await sh([`kubectl get pod ${other} -n production -o yaml > pod-evidence.yaml`, `kubectl describe pod ${other} -n production > pod-describe.txt`]);
    const wrong = await service().check(learner, 'l18', 'evidence', {});
    for (const id of ['manifest', 'describe']) {
      const c = wrong.result!.criteria.find((x) => x.id === id)!;
      expect(c.passed).toBe(false);
      expect(c.message).toContain('not the compromised pod\'s');
      expect(c.message).not.toContain(key.compromisedPod.name);
    }
    await sh(lab.lab.steps.find((s) => s.id === 'evidence')!.solution);
    const right = await service().check(learner, 'l18', 'evidence', {});
    expect(right.result!.criteria.filter((c) => !c.passed)).toEqual([]);
  });
});

describe('investigation on a real cluster', () => {
  const step = () => lab.lab.steps.find((s) => s.id === 'investigate')!;
  const reference = () => Object.fromEntries(Object.entries(step().solutionAnswers).map(([id, text]) => [id, fillSolution(text, key)]));

  it('charges repeated checks after three free ones, shown before each press, and fails every padded or wrong answer without giving the key away', async () => {
    const allBindings = (await sh(['kubectl get clusterrolebindings -o name'])).split('\n').map((s) => s.replace(/^.*\//, '').trim()).filter(Boolean);
    const wrongs: Array<Record<string, string>> = [
      { 'exec-command': 'no idea, maybe env or id or whoami', binding: `${allBindings.join(', ')}, cluster-admin` },
      { secrets: 'payments/payments-db, payments/stripe-api-key', 'source-ips': '203.0.113.1' },
      { 'first-request': new Date(Date.parse(key.firstMaliciousAt) - 1_889_000).toISOString(), identity: 'system:serviceaccount:ci:deployer' },
      { 'first-request': new Date(Date.parse(key.firstMaliciousAt) + 60_000).toISOString() },
    ];
    const costs: number[] = [];
    const leaks = keyStrings();
    for (const wrong of wrongs) {
      const before = (await service().view(learner, 'l18')).steps.find((s) => s.id === 'investigate')!;
      costs.push(before.retry!.nextCost);
      const view = await service().check(learner, 'l18', 'investigate', { ...reference(), ...wrong });
      for (const id of Object.keys(wrong)) {
        const c = view.result!.criteria.find((x) => x.id === id)!;
        expect(c, `${id}: ${wrong[id]}`).toMatchObject({ passed: false });
        for (const value of leaks) expect(c.message, `${id} feedback gives away ${value}`).not.toContain(value);
        expect(c.message).not.toMatch(/\d+ (?:of|missing|secret|address)|s off/);
      }
    }
    // Three free checks, then 5 % each, priced before the press.
    expect(costs).toEqual([0, 0, 0, 0.05]);
    const next = (await service().view(learner, 'l18')).steps.find((s) => s.id === 'investigate')!;
    expect(next.retry).toEqual({ nextCost: 0.05, freeLeft: 0, cost: 0.05 });
  });

  it('accepts the server-observed address and every secret the lists returned; the score keeps what retries cost, across a restart', async () => {
    // The server-observed address: the last sourceIPs entry of the attacker's events.
    const ids = new Set(key.steps.map((s) => s.auditId));
    const observed = new Set<string>();
    for await (const event of readAuditLog(auditLogPath)) if (event.stage === 'ResponseComplete' && ids.has(event.auditID)) observed.add(event.sourceIPs!.at(-1)!);
    expect(observed.size).toBe(1);
    expect(key.attacker.sourceIPs).not.toContain([...observed][0]);

    // Every secret the attacker's lists returned, as kubectl lists them now, plus those read by name.
    const listed = key.secretsRead.filter((s) => s.endsWith('/*')).map((s) => s.slice(0, -2));
    expect(listed.length).toBeGreaterThan(0);
    const everyRead = new Set(key.secretsRead.filter((s) => !s.endsWith('/*')));
    for (const ns of listed) for (const line of (await sh([`kubectl get secrets -n ${ns} -o name`])).split('\n')) if (line.trim()) everyRead.add(`${ns}/${line.trim().replace('secret/', '')}`);

    const view = await service().check(learner, 'l18', 'investigate', { ...reference(), 'source-ips': [...observed].join(', '), secrets: [...everyRead].join(', ') });
    expect(view.result!.criteria.filter((c) => !c.passed)).toEqual([]);
    expect(view.result!.criteria.find((c) => c.id === 'source-ips')!.message).toContain('X-Forwarded-For');
    // Passed on the fifth check: the fourth and fifth cost 5 % each.
    expect(view.score).toBeCloseTo(0.9);
    expect(view.retry?.nextCost).toBe(0);
    const again = (await service().view(learner, 'l18')).steps.find((s) => s.id === 'investigate')!;
    expect(again.score).toBeCloseTo(0.9);
    // Each check's price is stored with its result when it is made.
    const stored = (await store.all<{ retry_cost: number }>("SELECT retry_cost FROM lab_results WHERE step = 'investigate' ORDER BY seq")).map((r) => r.retry_cost);
    expect(stored).toEqual([0, 0, 0, 0.05, 0.05]);
  });
});
