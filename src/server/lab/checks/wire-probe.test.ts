// The wire probe's logic with a connection function passed in (tests/kind-clusters proves it on a
// real kind cluster): probers that reach no control pod prove nothing; an allowed way in or out
// shows as a real connection; the verdict never names a pod.
import { describe, expect, it } from 'vitest';
import { judgeQuarantine } from './quarantine.ts';
import { MAX_PROBERS, MAX_TARGETS, probeWire, type ConnectAll, type Endpoint, type WireFacts } from './wire-probe.ts';

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
    expect(facts).toEqual({ probers: 3, reachedIn: ['same', 'same', 'other'], triedOut: 3, reachedOut: 3, port: 8080, untriedIn: [], untriedOut: [] });
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

describe('probeWire on a cluster a learner filled with pods', () => {
  // 30 served pods in one namespace of the learner's, 10 more beside the compromised pod.
  const crowd = Array.from({ length: 30 }, (_, i) => pod('junk', `junk-${String(i).padStart(2, '0')}`, `10.0.2.${i}`, 80));
  const neighbours = Array.from({ length: 10 }, (_, i) => pod('production', `extra-${i}`, `10.0.0.${100 + i}`, 8080));
  const crowded = [victim, ...crowd, ...neighbours, frontend, sibling, db];
  const counting = (allowed: (from: Endpoint, to: string) => boolean) => {
    const rounds: number[] = [];
    const connect: ConnectAll = async (attempts) => (rounds.push(attempts.length), network(allowed)(attempts));
    return { rounds, connect };
  };

  it('tries at most MAX_PROBERS pods and MAX_TARGETS targets a round, and says which it left untried', async () => {
    const { rounds, connect } = counting((from, to) => from !== victim && to !== victim.ip);
    const facts = await probeWire(victim, crowded, connect, { maxProbers: 100, retries: 0 });
    expect(rounds).toHaveLength(1);
    expect(rounds[0]).toBeLessThanOrEqual(2 * MAX_PROBERS + MAX_TARGETS);
    expect(facts.probers).toBe(MAX_PROBERS);
    expect(facts.triedOut).toBe(MAX_TARGETS);
    const served = crowded.length - 1;
    expect(facts.untriedOut).toHaveLength(served - MAX_TARGETS);
    expect(facts.untriedIn).toHaveLength(neighbours.length + 2 - (MAX_PROBERS - 1));
    expect(facts.untriedIn.every((p) => p.startsWith('production/'))).toBe(true);
    expect([...facts.untriedIn, ...facts.untriedOut]).not.toContain('production/web-app-1');
  });

  it('takes targets from every namespace in turn, so a crowd in one namespace does not push the others out', async () => {
    const { connect } = counting(() => true);
    const facts = await probeWire(victim, crowded, connect, { retries: 0 });
    expect(facts.untriedOut).not.toContain('payments/db-1');
    expect(facts.reachedOut).toBe(MAX_TARGETS);
  });
});

describe('judgeQuarantine with real connections', () => {
  const labelled = { name: victim.name, labels: { quarantine: 'true', app: 'web-app' } };
  const denyAll = { metadata: { name: 'quarantine' }, spec: { podSelector: { matchLabels: { quarantine: 'true' } }, policyTypes: ['Ingress', 'Egress'] } };
  const facts = (f: Omit<WireFacts, 'untriedIn' | 'untriedOut'> & Partial<WireFacts>): WireFacts => ({ untriedIn: [], untriedOut: [], ...f });
  const cut = (wire: Parameters<typeof judgeQuarantine>[0]['wire']) => judgeQuarantine({ pod: labelled, policies: [denyAll], ...(wire ? { wire } : {}) }).find((c) => c.id === 'cut-proven');

  it('no criterion without real containers', () => {
    expect(cut(undefined)).toBeUndefined();
  });

  it('a connection in fails it and says from where, never which pod', () => {
    const result = cut(facts({ probers: 3, reachedIn: ['same'], triedOut: 3, reachedOut: 0, port: 8080 }))!;
    expect(result.passed).toBe(false);
    expect(result.message).toMatch(/a pod in its own namespace reached the compromised pod on port 8080/);
    expect(result.message).not.toMatch(/web-app|frontend/);
  });

  it('a connection out fails it; none either way passes; nothing to try falls back to the policies', () => {
    expect(cut(facts({ probers: 3, reachedIn: [], triedOut: 3, reachedOut: 1, port: 8080 }))).toMatchObject({ passed: false, message: expect.stringMatching(/egress is not cut/) });
    expect(cut(facts({ probers: 3, reachedIn: [], triedOut: 3, reachedOut: 0, port: 8080 }))).toMatchObject({ passed: true });
    expect(cut(facts({ probers: 0, reachedIn: [], triedOut: 0, reachedOut: 0, port: undefined }))).toMatchObject({ passed: true, message: expect.stringMatching(/from the policies alone/) });
  });

  it('past a round\'s limit, says what it tried and which pods it left untried, and lets the policies judge those', () => {
    const untriedOut = Array.from({ length: 8 }, (_, i) => `junk/junk-${i}`);
    const capped = facts({ probers: 5, reachedIn: [], triedOut: 16, reachedOut: 0, port: 8080, untriedIn: ['production/extra-9'], untriedOut });
    const result = cut(capped)!;
    expect(result.passed).toBe(true);
    expect(result.message).toMatch(/the first 16 pods that serve a port/);
    expect(result.message).toMatch(/left untried: production\/extra-9, junk\/junk-0, junk\/junk-1, junk\/junk-2, junk\/junk-3 and 4 more/);
    // Untried pods are not proof: with a policy that does not cut the pod off, the criterion fails.
    const open = judgeQuarantine({ pod: labelled, policies: [], wire: capped }).find((c) => c.id === 'cut-proven')!;
    expect(open).toMatchObject({ passed: false, message: expect.stringMatching(/left untried: .*the policies decide, and they do not cut the pod off/) });
  });
});
