// The grading runner on its own: a check past its time limit is told to stop (its signal aborts)
// and does stop; one that never listens still cannot hold the caller; the caller's signal cancels
// with its own reason; and the step grader tries workspace checks in every workspace, the best
// result kept, the applied policy's hash handed through. The checks here are stubs of the Check
// interface (no cluster is touched: the kubeconfig points nowhere and no stub uses it); the
// same cancellation against a real API server is tests/integration/grading-cancel.test.ts.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resultOf, type CheckResult } from '../../lib/check-result.ts';
import { httpStatusOf } from '../../lib/error-status.ts';
import type { ClusterInfo, ClusterProvider } from '../cluster/types.ts';
import type { Check, LabContext } from '../lab/check.ts';
import { stepGrader } from './grade.ts';
import { CheckTimeoutError, runCheck } from './runner.ts';

let work: string;
let cluster: ClusterInfo;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'irlab-grading-unit-'));
  const kubeconfigPath = path.join(work, 'kubeconfig');
  await writeFile(kubeconfigPath, [
    'apiVersion: v1', 'kind: Config', 'current-context: c',
    'clusters: [{ name: c, cluster: { server: "https://127.0.0.1:9" } }]',
    'users: [{ name: u, user: { token: unused } }]',
    'contexts: [{ name: c, context: { cluster: c, user: u } }]',
  ].join('\n'));
  cluster = { name: 'grading-unit', provider: 'embedded', kubeconfigPath, auditLogPath: path.join(work, 'audit.log'), dir: work } as ClusterInfo;
  await mkdir(path.join(work, 'keys'));
  await writeFile(path.join(work, 'keys', 'grading-unit.json'), JSON.stringify({ cluster: 'grading-unit' }));
});
afterAll(() => rm(work, { recursive: true, force: true }));

const contextFor = () => ({ workspace: work, answers: {}, questions: [] }) as unknown as LabContext;
const pass = (id: string): CheckResult => resultOf([{ id, passed: true, message: 'ok' }]);

/** A check that works in small steps until its signal tells it to stop; `stopped` settles then. */
function busyCheck() {
  let steps = 0;
  let stepsAtAbort = -1;
  let done!: () => void;
  const stopped = new Promise<void>((resolve) => (done = resolve));
  const check: Check = {
    name: 'busy', description: 'works until told to stop', criteria: ['busy'],
    async run(_context, signal) {
      signal.addEventListener('abort', () => (stepsAtAbort = steps), { once: true });
      try {
        while (!signal.aborted) {
          steps += 1;
          await tick();
        }
        throw signal.reason;
      } finally {
        done();
      }
    },
  };
  return { check, stopped, steps: () => steps, stepsAtAbort: () => stepsAtAbort };
}

describe('runCheck', () => {
  it('a check past its time limit is cancelled: the caller gets a 504 at the limit and the check stops working', async () => {
    const busy = busyCheck();
    const error = await runCheck(busy.check, contextFor, { limitMs: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckTimeoutError);
    expect(httpStatusOf(error)).toBe(504);
    expect((error as Error).message).toBe('the busy check took longer than 0.2 s; try again');
    await busy.stopped; // never settles if the signal did not reach the check
    expect(busy.stepsAtAbort()).toBeGreaterThan(0);
    expect(busy.steps()).toBe(busy.stepsAtAbort()); // not one step of work after the abort
  });

  it('a check that never listens cannot hold the caller past the limit', async () => {
    const deaf: Check = { name: 'deaf', description: 'never settles', criteria: ['deaf'], run: () => new Promise<CheckResult>(() => {}) };
    await expect(runCheck(deaf, contextFor, { limitMs: 100 })).rejects.toBeInstanceOf(CheckTimeoutError);
  });

  it('the caller\'s signal cancels the check with the caller\'s reason', async () => {
    const busy = busyCheck();
    const caller = new AbortController();
    const running = runCheck(busy.check, contextFor, { limitMs: 60_000, signal: caller.signal });
    while (busy.steps() < 3) await tick();
    caller.abort(new Error('the drill has ended'));
    await expect(running).rejects.toThrow('the drill has ended');
    await busy.stopped;
  });

  it('a finished check\'s signal aborts, so work it left behind stops too', async () => {
    let seen: AbortSignal | undefined;
    const quick: Check = { name: 'quick', description: 'answers at once', criteria: ['quick'], run: async (_c, signal) => ((seen = signal), pass('quick')) };
    expect(await runCheck(quick, contextFor, { limitMs: 60_000 })).toEqual(pass('quick'));
    expect(seen?.aborted).toBe(true);
  });
});

describe('stepGrader', () => {
  const provider = {} as ClusterProvider;

  it('tries a workspace check in every workspace and keeps the best; others run once, in the first', async () => {
    const calls: string[] = [];
    const evidence: Check = {
      name: 'evidence-like', description: '', criteria: ['file'], needs: { workspace: true },
      run: async ({ workspace }) => (calls.push(`evidence ${path.basename(workspace)}`), resultOf([{ id: 'file', passed: workspace.endsWith('bob'), message: workspace }])),
    };
    const clusterCheck: Check = { name: 'cluster-only', description: '', criteria: ['c'], run: async ({ workspace }) => (calls.push(`cluster ${path.basename(workspace)}`), pass('c')) };
    const grade = stepGrader({ provider, answerKeys: path.join(work, 'keys'), checks: new Map([[evidence.name, evidence], [clusterCheck.name, clusterCheck]]) });
    const result = await grade({
      cluster, step: { id: 's', checks: ['evidence-like', 'cluster-only'], questions: [] },
      workspaces: [path.join(work, 'alice'), path.join(work, 'bob'), path.join(work, 'carol')], answers: {}, appliedPolicySha256: undefined,
    });
    expect(result.passed).toBe(true);
    expect(calls).toEqual(['evidence alice', 'evidence bob', 'cluster alice']);
  });

  it('hands the applied policy\'s hash and the answers to the check, and refuses an unknown check with a 500', async () => {
    let context: LabContext | undefined;
    const policy: Check = { name: 'policy-like', description: '', criteria: ['p'], needs: { workspace: true, appliedPolicy: true }, run: async (c) => ((context = c), pass('p')) };
    const grade = stepGrader({ provider, answerKeys: path.join(work, 'keys'), checks: new Map([[policy.name, policy]]) });
    await grade({ cluster, step: { id: 's', checks: ['policy-like'], questions: [{ id: 'q' }] }, workspaces: [work], answers: { q: 'a' }, appliedPolicySha256: 'abc' });
    expect(context).toMatchObject({ appliedPolicySha256: 'abc', answers: { q: 'a' }, questions: ['q'], answerKey: { cluster: 'grading-unit' } });
    const error = await grade({ cluster, step: { id: 's', checks: ['nope'], questions: [] }, workspaces: [work], answers: {}, appliedPolicySha256: undefined }).catch((e: unknown) => e);
    expect(httpStatusOf(error)).toBe(500);
    expect((error as Error).message).toBe('step s names an unknown check nope; irlab validate lists the registered ones');
  });
});
