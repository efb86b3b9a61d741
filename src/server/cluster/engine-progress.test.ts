import { describe, expect, it } from 'vitest';

import { estimate, MEASURED_STEP_SECONDS, parseBuildLine } from './engine-progress.ts';

describe('parseBuildLine (engine/build.sh output)', () => {
  it('reads the plan, the steps, the lock wait and errors', () => {
    expect(parseBuildLine('[engine 06:13:32] plan: k8s etcd packages verify')).toEqual({ type: 'plan', steps: ['k8s', 'etcd', 'packages', 'verify'] });
    expect(parseBuildLine('[engine 06:13:32] step 1/4 k8s: building kube-apiserver kubectl v1.37.2 (slow)')).toEqual({
      type: 'step',
      index: 1,
      count: 4,
      id: 'k8s',
      what: 'building kube-apiserver kubectl v1.37.2 (slow)',
    });
    expect(parseBuildLine('[engine 06:13:32] waiting: another engine build of this cache is running (it holds /c/engine-build.lock)')).toEqual({
      type: 'waiting',
      message: 'another engine build of this cache is running (it holds /c/engine-build.lock)',
    });
    expect(parseBuildLine('[engine] ERROR: go is not on PATH; install Go')).toEqual({ type: 'error', message: 'go is not on PATH; install Go' });
  });

  it('ignores everything else (go output, skips, a step line inside other text)', () => {
    for (const line of ['[engine 06:13:32] skip etcd: already v3.6.16', 'k8s.io/kubernetes/pkg/foo', 'go: downloading x', 'echo "[engine 06:13:32] step 1/2 k8s: x"', '']) {
      expect(parseBuildLine(line)).toBeUndefined();
    }
  });
});

describe('estimate', () => {
  const plan = ['k8s', 'etcd', 'packages', 'verify'];
  const total = MEASURED_STEP_SECONDS.k8s! + MEASURED_STEP_SECONDS.etcd! + 2;

  it('uses the measured figures before this machine recorded any', () => {
    expect(estimate(plan, 0, 0, {})).toEqual({ remainingSeconds: total, fraction: 0 });
    const half = estimate(plan, 0, MEASURED_STEP_SECONDS.k8s! / 2, {});
    expect(half.remainingSeconds).toBe(Math.round(total - MEASURED_STEP_SECONDS.k8s! / 2));
    expect(half.fraction).toBeCloseTo(MEASURED_STEP_SECONDS.k8s! / 2 / total, 2);
  });

  it('prefers what this machine recorded', () => {
    expect(estimate(plan, 1, 0, { k8s: 100, etcd: 20 }).remainingSeconds).toBe(22);
  });

  it('never claims to be done while a step runs past its estimate', () => {
    const late = estimate(plan, 0, 10 * MEASURED_STEP_SECONDS.k8s!, {});
    expect(late.remainingSeconds).toBeGreaterThan(MEASURED_STEP_SECONDS.etcd!);
    expect(late.fraction).toBeLessThan(1);
  });
});
