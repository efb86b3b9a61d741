// Errors keep their status across module copies (issue #15 finding 7): serve.ts and Astro's bundle
// each load their own copy of the service modules, so the endpoint's `instanceof LabError` saw a
// foreign class and answered 500. A second copy is made here the way Vite makes one: the same
// file under another module id.
import { describe, expect, it } from 'vitest';
import { httpStatusOf } from '../../lib/error-status.ts';
import type * as clusterTypes from '../cluster/types.ts';
import { ClusterError } from '../cluster/types.ts';
import type * as labError from '../lab/lab-error.ts';
import { LabError } from '../lab/service.ts';
import { errorResponse, readJsonObject } from './endpoint.ts';

const otherCopy = async <T>(file: string): Promise<T> => (await import(/* @vite-ignore */ `${file}?another-copy`)) as T;

describe('errorResponse', () => {
  it("answers another copy's LabError with its status and reason, which instanceof could not", async () => {
    // The module that defines it (service.ts re-exports it from there).
    const { LabError: ForeignLabError } = await otherCopy<typeof labError>('../lab/lab-error.ts');
    const error = new ForeignLabError('no step "x" in lab l18', 404);
    expect(error instanceof LabError).toBe(false);
    const response = errorResponse(error, 'test', 'the lab service failed');
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: 'no step "x" in lab l18' });
  });

  it('answers a ClusterError 503 with its hint, and a refused audit policy 422', async () => {
    const { ClusterError: ForeignClusterError, AuditPolicyRejectedError } = await otherCopy<typeof clusterTypes>('../cluster/types.ts');
    expect(new ForeignClusterError('x', 'y') instanceof ClusterError).toBe(false);
    const response = errorResponse(new ForeignClusterError('cluster lab-1 is gone', 'press Reset'), 'test', 'failed');
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ error: 'cluster lab-1 is gone', hint: 'press Reset' });
    expect(httpStatusOf(new AuditPolicyRejectedError('unknown level "Everything"'))).toBe(422);
  });

  it('answers anything else 500 with a reason and no stack', async () => {
    const response = errorResponse(new RangeError('Maximum call stack size exceeded'), 'test', 'the lab service failed');
    expect(response.status).toBe(500);
    const body = JSON.stringify(await response.json());
    expect(body).toContain('the lab service failed');
    expect(body).not.toMatch(/\bat \S+ \(|Maximum call stack/);
  });

  it('ignores a status on an unbranded object (only our errors choose their status)', () => {
    expect(httpStatusOf(Object.assign(new Error('x'), { status: 200 }))).toBeUndefined();
    expect(httpStatusOf({ status: 404 })).toBeUndefined();
    expect(httpStatusOf(new LabError('x', 404))).toBe(404);
  });
});

describe('readJsonObject', () => {
  const request = (body: string | Uint8Array<ArrayBuffer>) => new Request('http://irlab/api/x', { method: 'POST', body });
  const statusOf = (promise: Promise<unknown>) => promise.then(() => 200, (error: unknown) => httpStatusOf(error));

  it('reads an object, and an empty body as {}', async () => {
    expect(await readJsonObject(request('{"step":"a"}'))).toEqual({ step: 'a' });
    expect(await readJsonObject(request('  '))).toEqual({});
  });

  it('refuses what is not a JSON object with 400, and a body over the limit with 413', async () => {
    expect(await statusOf(readJsonObject(request('{"a"')))).toBe(400);
    expect(await statusOf(readJsonObject(request('[1]')))).toBe(400);
    expect(await statusOf(readJsonObject(request('null')))).toBe(400);
    expect(await statusOf(readJsonObject(request(new Uint8Array([0x7b, 0xff, 0x7d]))))).toBe(400);
    expect(await statusOf(readJsonObject(request(`{"a":"${'x'.repeat(20_000)}"}`), 16 * 1024))).toBe(413);
  });
});
