// A check past its time limit really stops, on a REAL API server. The checks below never look at
// their signal: they keep asking the API server for ConfigMaps that do not exist (404s) until a
// request fails otherwise, as real checks rethrow what they do not expect. Only the grading path's
// cancellation can stop them: the context's kubeconfig (client-node clients) and `callApi` carry
// the run's signal. After the time limit, the check's loop has ended and the audit log shows no
// request of it after the abort: a marker request sent afterwards is in the log, and every probe
// the log holds was started before the abort. Fails with a plain KubeConfig in the context: the
// loop goes on and never settles.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/lib/check-result.ts';
import { readAuditLog } from '../../src/server/cluster/audit-log.ts';
import { loadKubeConfig } from '../../src/server/cluster/kube.ts';
import type { AuditEvent } from '../../src/server/cluster/types.ts';
import { stepGrader } from '../../src/server/grading/grade.ts';
import { CheckTimeoutError } from '../../src/server/grading/runner.ts';
import type { Check, LabContext } from '../../src/server/lab/check.ts';
import { callApi } from '../../src/server/scenarios/kube-request.ts';
import { admin } from '../../src/server/scenarios/world.ts';
import { useEmbeddedCluster } from './fixtures/embedded-cluster.ts';

// The grader reads the cluster's answer key; these checks need nothing from it.
const real = useEmbeddedCluster('grading', async ({ work, name }) => {
  await mkdir(path.join(work, 'keys'));
  await writeFile(path.join(work, 'keys', `${name}.json`), JSON.stringify({ cluster: name }));
});

/** A check that asks for ConfigMaps `<prefix>-<n>` until a request fails with anything but 404. */
function endlessProber(prefix: string, get: (context: LabContext, name: string) => Promise<number>) {
  let started = 0;
  let startedAtAbort = -1;
  let ended!: (error: unknown) => void;
  const loopEnded = new Promise<unknown>((resolve) => (ended = resolve));
  const check: Check = {
    name: `${prefix}-prober`, description: 'asks the API server forever', criteria: ['never'],
    async run(context, signal): Promise<CheckResult> {
      signal.addEventListener('abort', () => (startedAtAbort = started), { once: true });
      for (;;) {
        started += 1;
        const status = await get(context, `${prefix}-${started}`).catch((error: unknown) => error);
        if (status !== 404) {
          ended(status);
          throw status;
        }
      }
    },
  };
  return { check, loopEnded, startedAtAbort: () => startedAtAbort };
}

/** Resolves once an audit event matching `match` has been written (the log is followed, not polled by time). */
async function auditedEvent(match: (e: AuditEvent) => boolean): Promise<AuditEvent> {
  for await (const event of readAuditLog(real.cluster.auditLogPath, { follow: true, signal: AbortSignal.timeout(60_000) })) if (match(event)) return event;
  throw new Error('the marker request never reached the audit log within 60 s');
}

const probeIndex = (event: AuditEvent, prefix: string) => {
  const found = new RegExp(`^${prefix}-(\\d+)$`).exec(event.objectRef?.name ?? '');
  return found ? Number(found[1]) : undefined;
};

describe('a check past its time limit', () => {
  const ways = {
    'client-node': async (context: LabContext, object: string) =>
      context.kubeConfig.makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: object, namespace: 'default' }).then(() => 200, (error: { code?: number }) => {
        if (error.code === 404) return 404;
        throw error;
      }),
    callApi: async (context: LabContext, object: string) => (await callApi(admin(context.kubeConfig), { method: 'GET', path: `/api/v1/namespaces/default/configmaps/${object}` })).status,
  };

  for (const [way, get] of Object.entries(ways)) {
    it(`stops its requests through ${way}: none reaches the API server after the abort`, async () => {
      const prefix = `probe-${way.toLowerCase().replace(/[^a-z]/g, '')}-${randomBytes(2).toString('hex')}`;
      const prober = endlessProber(prefix, get);
      const grade = stepGrader({ provider: real.provider, answerKeys: path.join(real.work, 'keys'), checkTimeoutMs: 1_500, checks: new Map([[prober.check.name, prober.check]]) });
      const error = await grade({ cluster: real.cluster, step: { id: 'probe', checks: [prober.check.name], questions: [] }, workspaces: [real.work], answers: {}, appliedPolicySha256: undefined }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CheckTimeoutError);

      // The loop ends by itself: its request was cancelled (never a 404, never a hang).
      const guard = new Promise((resolve) => setTimeout(() => resolve('still running 30 s after its time limit'), 30_000).unref());
      const ended = await Promise.race([prober.loopEnded, guard]);
      expect(ended).toBeInstanceOf(Error);
      expect((ended as Error).name).toMatch(/Abort|CheckTimeout/);
      expect(prober.startedAtAbort()).toBeGreaterThan(0);

      // A request sent now reaches the log after anything the check could still have sent.
      const marker = `${prefix}-marker`;
      await loadKubeConfig(real.cluster.kubeconfigPath).makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: marker, namespace: 'default' }).catch(() => undefined);
      await auditedEvent((e) => e.objectRef?.name === marker);
      const probes: number[] = [];
      for await (const event of readAuditLog(real.cluster.auditLogPath)) {
        const index = probeIndex(event, prefix);
        if (index !== undefined) probes.push(index);
      }
      expect(probes.length).toBeGreaterThan(0);
      // Every probe the API server saw was started before the abort (the last may have been in flight).
      expect(Math.max(...probes)).toBeLessThanOrEqual(prober.startedAtAbort());
    }, 120_000);
  }
});
