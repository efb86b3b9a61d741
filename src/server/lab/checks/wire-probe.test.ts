// The wire probe's logic with a connection function passed in (tests/kind-clusters proves it on a
// real kind cluster): probers that reach no control pod prove nothing; an allowed way in or out
// shows as a real connection; the verdict never names a pod.
import { describe, expect, it } from 'vitest';
import { judgeQuarantine } from './quarantine.ts';
import { probeWire, type ConnectAll, type Endpoint } from './wire-probe.ts';

const pod = (namespace: string, name: string, ip: string, port?: number): Endpoint => ({ namespace, name, ip, port, container: 'app' });
const victim = pod('production', 'web-app-1', '10.0.0.1', 8080);
const frontend = pod('production', 'frontend-1', '10.0.0.2', 8080);
const sibling = pod('production', 'web-app-2', '10.0.0.3', 8080);
const db = pod('payments', 'db-1', '10.0.1.1', 5432);
const all = [victim, frontend, sibling, db];

/** A network where `allowed(from, toIp)` decides. */
const network = (allowed: (from: Endpoint, to: string) => boolean): ConnectAll => async (attempts) => attempts.map(({ from, to }) => allowed(from, to.ip));

describe('probeWire', () => {
  it('everything open: every prober reaches the pod and the pod reaches every served pod', async () => {
    const facts = await probeWire(victim, all, network(() => true), { retries: 0 });
    expect(facts).toEqual({ probers: 3, reachedIn: ['same', 'same', 'other'], triedOut: 3, reachedOut: 3, port: 8080 });
  });

  it('the allow-frontend trap: only the frontend gets in, which is a way in', async () => {
    const facts = await probeWire(victim, all, network((from, to) => to !== victim.ip || from === frontend), { retries: 0 });
    expect(facts.reachedIn).toEqual(['same']);
    expect(facts.probers).toBe(3);
  });

  it('a prober that reaches no control pod is left out (its own egress is cut)', async () => {
    const facts = await probeWire(victim, all, network((from, to) => from !== sibling && to !== victim.ip && from !== victim));
    expect(facts).toMatchObject({ probers: 2, reachedIn: [], reachedOut: 0, triedOut: 3 });
  });

  it('a connection that stops getting through once the policy has applied does not count; one that stays open does', async () => {
    let applied = false;
    const slept: number[] = [];
    const sleep = async (ms: number) => void (slept.push(ms), (applied = true));
    const late = await probeWire(victim, all, network((from, to) => !applied || (from !== victim && to !== victim.ip)), { sleep, settleMs: 10 });
    expect(late).toMatchObject({ reachedIn: [], reachedOut: 0 });
    expect(slept).toEqual([10]);
    slept.length = 0;
    const open = await probeWire(victim, all, network(() => true), { sleep: async (ms) => void slept.push(ms), retries: 2, settleMs: 10 });
    expect(open.reachedIn).toHaveLength(3);
    expect(slept).toEqual([10, 10]);
  });

  it('a pod that is gone, or serves no port, is not tried for ingress', async () => {
    expect(await probeWire(pod('production', 'gone', '1.1.1.1'), all, network(() => true))).toMatchObject({ probers: 0, triedOut: 0 });
    const quiet = pod('production', 'quiet', '10.0.0.9');
    expect(await probeWire(quiet, [...all, quiet], network(() => true), { retries: 0 })).toMatchObject({ reachedIn: [], port: undefined, reachedOut: 4 });
  });
});

describe('judgeQuarantine with real connections', () => {
  const labelled = { name: victim.name, labels: { quarantine: 'true', app: 'web-app' } };
  const denyAll = { metadata: { name: 'quarantine' }, spec: { podSelector: { matchLabels: { quarantine: 'true' } }, policyTypes: ['Ingress', 'Egress'] } };
  const cut = (wire: Parameters<typeof judgeQuarantine>[0]['wire']) => judgeQuarantine({ pod: labelled, policies: [denyAll], ...(wire ? { wire } : {}) }).find((c) => c.id === 'cut-proven');

  it('no criterion without real containers', () => {
    expect(cut(undefined)).toBeUndefined();
  });

  it('a connection in fails it and says from where, never which pod', () => {
    const result = cut({ probers: 3, reachedIn: ['same'], triedOut: 3, reachedOut: 0, port: 8080 })!;
    expect(result.passed).toBe(false);
    expect(result.message).toMatch(/a pod in its own namespace reached the compromised pod on port 8080/);
    expect(result.message).not.toMatch(/web-app|frontend/);
  });

  it('a connection out fails it; none either way passes; nothing to try falls back to the policies', () => {
    expect(cut({ probers: 3, reachedIn: [], triedOut: 3, reachedOut: 1, port: 8080 })).toMatchObject({ passed: false, message: expect.stringMatching(/egress is not cut/) });
    expect(cut({ probers: 3, reachedIn: [], triedOut: 3, reachedOut: 0, port: 8080 })).toMatchObject({ passed: true });
    expect(cut({ probers: 0, reachedIn: [], triedOut: 0, reachedOut: 0, port: undefined })).toMatchObject({ passed: true, message: expect.stringMatching(/from the policies alone/) });
  });
});
