import { describe, expect, it } from 'vitest';
import { httpStatusOf } from '../../lib/error-status.ts';
import type { ClusterInfo } from '../cluster/types.ts';
import { collectNodeEvidence } from './lab-node-evidence.ts';

const kind = { name: 'lab-1', provider: 'kind' } as ClusterInfo;
const embedded = { name: 'lab-2', provider: 'embedded' } as ClusterInfo;
const statusOf = (promise: Promise<unknown>) => promise.then(() => 200, (error: unknown) => httpStatusOf(error) ?? 500);

describe('collectNodeEvidence', () => {
  it('answers bad input with 400 and the reason, before touching any node', async () => {
    for (const request of [{ collection: 'bash', args: [] }, { collection: 'container', args: ['$(id)'] }, { collection: 'files', args: ['/'] }, { collection: 7, args: 'x' }, { collection: 'pod-log', args: ['../../..', 'x'] }]) {
      expect(await statusOf(collectNodeEvidence(kind, '/nonexistent', request, AbortSignal.timeout(5000)))).toBe(400);
    }
  });

  it('answers 409 on a cluster without a real node', async () => {
    const refused = collectNodeEvidence(embedded, '/nonexistent', { collection: 'containers', args: [] }, AbortSignal.timeout(5000));
    await expect(refused).rejects.toThrow(/needs a real node/);
    expect(await statusOf(collectNodeEvidence(embedded, '/nonexistent', { collection: 'containers', args: [] }, AbortSignal.timeout(5000)))).toBe(409);
  });
});
