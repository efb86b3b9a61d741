import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { durationMs, scenarioSchema, stepSchema } from '../../schemas/scenario.ts';
import { pause, runTimeline, scenarioTimeScale, toApiRequest, waitingTimeScale } from './timeline.ts';

describe('timeline durations', () => {
  it('reads 500ms, 40s, 3m, 1m30s and 1h', () => {
    expect(['500ms', '40s', '3m', '1m30s', '1h'].map(durationMs)).toEqual([500, 40_000, 180_000, 90_000, 3_600_000]);
  });

  it('refuses what is not a duration', () => {
    for (const after of ['', '40', '3 m', '-1s', 'soon', '1s1m']) {
      expect(stepSchema.safeParse({ as: 'a', from: 'pod', after, request: { verb: 'get', path: '/apis' } }).success, after).toBe(false);
    }
  });

  it('reads the time scale from IRLAB_SCENARIO_TIME_SCALE, 1 when unset', () => {
    expect(scenarioTimeScale({})).toBe(1);
    expect(scenarioTimeScale({ IRLAB_SCENARIO_TIME_SCALE: '0.002' })).toBe(0.002);
    expect(() => scenarioTimeScale({ IRLAB_SCENARIO_TIME_SCALE: 'fast' })).toThrow(/IRLAB_SCENARIO_TIME_SCALE/);
  });

  it('seeds what somebody waits for at the waiting scale, never slower than the scenario scale', () => {
    expect(waitingTimeScale({})).toBe(0.02);
    expect(waitingTimeScale({ IRLAB_SCENARIO_WAITING_TIME_SCALE: '0.1' })).toBe(0.1);
    expect(waitingTimeScale({ IRLAB_SCENARIO_TIME_SCALE: '0.002' })).toBe(0.002);
    expect(() => waitingTimeScale({ IRLAB_SCENARIO_WAITING_TIME_SCALE: '-1' })).toThrow(/IRLAB_SCENARIO_WAITING_TIME_SCALE/);
  });
});

describe('discovery requests', () => {
  it('become a GET of the non-resource URL', () => {
    const step = stepSchema.parse({ as: 'a', from: 'pod', request: { verb: 'get', path: '/apis' } });
    expect(toApiRequest(step.request)).toEqual({ method: 'GET', path: '/apis' });
  });
});

describe('aborting', () => {
  it('ends a pause as soon as the signal aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error('the lab was reset')), 20);
    await expect(pause(60_000, controller.signal)).rejects.toThrow('the lab was reset');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('stops a timeline in its first pause, before any request is made', async () => {
    const scenario = scenarioSchema.shape.timeline.parse([{ as: 'x', from: '192.0.2.1', after: '10m', request: { verb: 'get', path: '/api' } }]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('the server is shutting down')), 20);
    // No cluster behind this kubeconfig: a request would fail with a connection error instead.
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromClusterAndUser({ name: 'none', server: 'https://127.0.0.1:1', skipTLSVerify: true }, { name: 'x', token: 't' });
    const started = Date.now();
    await expect(
      runTimeline({ timeline: scenario } as never, {}, { x: { username: 'x', kubeConfig } }, [], { signal: controller.signal }),
    ).rejects.toThrow('the server is shutting down');
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
