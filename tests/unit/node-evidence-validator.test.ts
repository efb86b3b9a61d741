// The node-evidence validator against generated hostile requests (the hostile-input suite sends
// the same ones to the real server): whatever it accepts is a plain name that reaches `docker
// exec` only as one argv element; whatever it refuses is a 400 with a short reason, before any
// command runs in a node.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { httpStatusOf } from '../../src/lib/error-status.ts';
import { planCollection, type NodeExec } from '../../src/server/cluster/node-evidence.ts';
import type { ClusterInfo } from '../../src/server/cluster/types.ts';
import { collectNodeEvidence } from '../../src/server/lab/lab-node-evidence.ts';
import { hostileNodeEvidenceRequest, HOSTILE_NAMES } from '../integration/hostile/node-evidence-arbitraries.ts';

/** A name a node path or argv may hold: lowercase letters, digits, '-', '.', '_', never a path step. */
const PLAIN_NAME = /^[a-z0-9][-a-z0-9._]*$/;
const kind = { name: 'lab-1', provider: 'kind', kubeconfigPath: '/nonexistent', auditLogPath: '/nonexistent', dir: '/nonexistent' } satisfies ClusterInfo;

describe('node evidence: generated hostile requests', () => {
  it('accepts only plain names (no path step, NUL, space or shell character) and refuses the rest with a short reason', () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(hostileNodeEvidenceRequest, (request) => {
        const planned = planCollection(request['collection'], request['args']);
        if (!planned.ok) {
          refused += 1;
          expect(planned.reason.length).toBeLessThan(300);
          expect(planned.reason).not.toMatch(/[\n\r]/);
          expect(planned.reason).not.toContain('\u0000');
          return;
        }
        accepted += 1;
        for (const arg of (request['args'] ?? []) as string[]) {
          expect(arg).toMatch(PLAIN_NAME);
          expect(arg.split('_')).not.toContain('..');
        }
        expect(planned.plan.file).toMatch(PLAIN_NAME);
        for (const argv of planned.plan.commands) {
          for (const part of argv) {
            expect(part).not.toMatch(/[\n\r;|&$`<>]/);
            expect(part).not.toContain('\u0000');
          }
        }
      }),
      { numRuns: 3000 },
    );
    // The generator reaches both sides: right requests pass, so the refusals are not an accident.
    expect(accepted).toBeGreaterThan(10);
    expect(refused).toBeGreaterThan(accepted);
  });

  it('refuses every hostile name in every argument position, whatever the collection', () => {
    for (const name of HOSTILE_NAMES) {
      expect(planCollection('container', [name]).ok, JSON.stringify(name)).toBe(false);
      expect(planCollection('files', [name]).ok, JSON.stringify(name)).toBe(false);
      expect(planCollection('pod-log', [name, 'monitor']).ok, JSON.stringify(name)).toBe(false);
      // `constructor` or `prototype` is a key to a lookup table but a fine container name: a plain name is no trick there.
      if (!PLAIN_NAME.test(name)) expect(planCollection('pod-log', ['observability_node-monitor-ks7tc_0b1c2d3e-1111-2222-3333-444455556666', name]).ok, JSON.stringify(name)).toBe(false);
      expect(planCollection(name, []).ok, JSON.stringify(name)).toBe(false);
    }
  });

  it('a refused request is a 400 before any command runs in the node', async () => {
    const calls: string[][] = [];
    const exec: NodeExec = async (command, args) => (calls.push([command, ...args]), { code: 0, stdout: Buffer.alloc(0), stderr: '', truncated: false });
    await fc.assert(
      fc.asyncProperty(hostileNodeEvidenceRequest.filter((r) => !planCollection(r['collection'], r['args']).ok), async (request) => {
        const status = await collectNodeEvidence(kind, '/nonexistent', { collection: request['collection'], args: request['args'] }, AbortSignal.timeout(5000), exec).then(
          () => 200,
          (error: unknown) => httpStatusOf(error),
        );
        expect(status).toBe(400);
      }),
      { numRuns: 500 },
    );
    expect(calls).toEqual([]);
  });
});
