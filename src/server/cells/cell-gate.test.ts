import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { requestAddress } from '../http/client-address.ts';
import { learnerService } from '../learners/learners.ts';
import { openedPerTest, testStores, type TestBackend } from '../store/store-test-kit.ts';
import { cellGate } from './cell-gate.ts';
import { NO_LEARNER, watcherOf } from './cluster-routes.ts';
import { FORWARD_HEADER, forwardSigner, forwardVerifier } from './forward-auth.ts';

const KEY = 'k'.repeat(48);
const open = openedPerTest();

const request = (method: string, url: string, headers: Record<string, string> = {}) => ({ method, url, headers: { ...headers } }) as unknown as IncomingMessage;

describe.each(testStores())('a cell\'s gate on $name', (backend: TestBackend) => {
  it('serves cluster-bound requests only with a valid header for this cell, as the learner it names; never by cookie', async () => {
    const db = await open(backend);
    const learners = learnerService({ store: db });
    const { learner, token } = await learners.create('Ana');
    const other = await learners.create('Mallory');
    const gate = cellGate({ verifier: forwardVerifier({ key: KEY, cellId: 'cell-a' }), db, learners });
    const signer = forwardSigner({ key: KEY });
    const sign = (method: string, path: string, cellId = 'cell-a') => ({ [FORWARD_HEADER]: signer.sign({ method, path, learnerId: learner.id, cellId, address: '203.0.113.7' }) });

    // Not cluster-bound: not the gate's business.
    expect(gate.admit(request('GET', '/labs/l18'), 'http')).toBeUndefined();
    // A cookie alone is nobody.
    const byCookie = request('POST', '/api/labs/l18/check', { cookie: `irlab_session=${token}` });
    expect(gate.admit(byCookie, 'http')).toMatchObject({ ok: false, status: 403, error: expect.stringMatching(/no x-irlab-forward header/) });
    expect(byCookie.headers.cookie).toBeUndefined();
    expect(gate.admit(request('GET', '/ws/terminal/abc'), 'upgrade')).toMatchObject({ ok: false, status: 403 });
    // A query of an audit log reads a cluster's file here: fronts only, as the header's learner.
    expect(gate.admit(request('POST', '/api/query', { cookie: `irlab_session=${token}` }), 'http')).toMatchObject({ ok: false, status: 403 });
    expect(gate.admit(request('POST', '/api/query', sign('POST', '/api/query')), 'http')).toEqual({ ok: true, learnerId: learner.id });
    // For another cell, another path, or used twice: refused.
    expect(gate.admit(request('POST', '/api/labs/l18/check', sign('POST', '/api/labs/l18/check', 'cell-b')), 'http')).toMatchObject({ ok: false, error: expect.stringMatching(/another cell/) });
    expect(gate.admit(request('POST', '/api/labs/l18/reset', sign('POST', '/api/labs/l18/check')), 'http')).toMatchObject({ ok: false, error: expect.stringMatching(/not signed/) });
    const headers = sign('POST', '/api/labs/l18/check');
    // The other learner's cookie rides along: the header's learner wins and the cookie is dropped.
    const good = request('POST', '/api/labs/l18/check', { ...headers, cookie: `irlab_session=${other.token}` });
    expect(gate.admit(good, 'http')).toEqual({ ok: true, learnerId: learner.id });
    expect(good.headers.cookie).toBeUndefined();
    expect(gate.learnerOf(good)).toBe(learner.id);
    // Its client is the browser the front saw, not the front's socket: per-address budgets charge the browser.
    expect(requestAddress({ ...good, socket: { remoteAddress: '10.9.9.9' } } as unknown as IncomingMessage)).toBe('10.9.9.9');
    expect(requestAddress(good)).toBe('203.0.113.7');
    expect(gate.admit(request('POST', '/api/labs/l18/check', headers), 'http')).toMatchObject({ ok: false, error: expect.stringMatching(/used before/) });

    // The endpoints' learner service answers the header's learner for any session token, and never creates one.
    const forwarded = gate.learnersFor(learner.id);
    expect((await forwarded.fromSession(other.token))?.id).toBe(learner.id);
    expect((await forwarded.fromSession(undefined))?.displayName).toBe('Ana');
    await expect(forwarded.create()).rejects.toThrow(/cannot create a learner/);
  });

  it('gates a drill\'s changes and its feed the same way; a facilitator with no learner session is nobody here', async () => {
    const db = await open(backend);
    const learners = learnerService({ store: db });
    const gate = cellGate({ verifier: forwardVerifier({ key: KEY, cellId: 'cell-a' }), db, learners });
    const signer = forwardSigner({ key: KEY });
    expect(gate.admit(request('POST', '/api/drills/drl_abc/log'), 'http')).toMatchObject({ ok: false, status: 403 });
    expect(gate.admit(request('POST', '/api/drills?drill=drl_abcdefghijkl'), 'http')).toMatchObject({ ok: false, status: 403 });
    expect(gate.admit(request('GET', '/ws/drills/drl_abc'), 'upgrade')).toMatchObject({ ok: false, status: 403 });
    // Reads of a drill are any server's (the database).
    expect(gate.admit(request('GET', '/api/drills/drl_abc'), 'http')).toBeUndefined();
    const path = '/api/drills/drl_abc/control';
    const facilitator = request('POST', path, { [FORWARD_HEADER]: signer.sign({ method: 'POST', path, learnerId: NO_LEARNER, cellId: 'cell-a', address: '203.0.113.9' }), authorization: 'Bearer t' });
    expect(gate.admit(facilitator, 'http')).toMatchObject({ ok: true });
    expect(gate.learnerOf(facilitator)).toBeUndefined();
    expect(facilitator.headers.authorization).toBe('Bearer t');
    expect(await gate.learnersFor(NO_LEARNER).fromSession('anything')).toBeUndefined();
  });

  it('admits an instructor\'s watch only through a front, and a watcher principal only to watch the learner it names', async () => {
    const db = await open(backend);
    const learners = learnerService({ store: db });
    const gate = cellGate({ verifier: forwardVerifier({ key: KEY, cellId: 'cell-a' }), db, learners });
    const signer = forwardSigner({ key: KEY });
    const signed = (method: string, path: string, learnerId = watcherOf('lrn_ana'), headers: Record<string, string> = {}) =>
      request(method, path, { ...headers, [FORWARD_HEADER]: signer.sign({ method, path, learnerId, cellId: 'cell-a', address: '203.0.113.7' }) });
    const endpoint = '/api/classes/cls_1/watch?learner=lrn_ana';
    // Straight to the cell, with the instructor's cookie or bearer: refused (the cell checks no instructor itself).
    expect(gate.admit(request('GET', endpoint, { authorization: 'Bearer t', cookie: 'irlab_instructor=t' }), 'http')).toMatchObject({ ok: false, status: 403 });
    expect(gate.admit(request('GET', '/ws/terminal/s1?watch=1&learner=lrn_ana'), 'upgrade')).toMatchObject({ ok: false, status: 403 });
    // Through a front, signed as her watcher: the endpoint and the watch socket, for her only.
    const watch = signed('GET', endpoint);
    expect(gate.admit(watch, 'http')).toEqual({ ok: true, learnerId: watcherOf('lrn_ana'), watching: 'lrn_ana' });
    expect(gate.learnerOf(watch)).toBe(watcherOf('lrn_ana'));
    expect(await gate.learnersFor(watcherOf('lrn_ana')).fromSession(undefined)).toBeUndefined();
    expect(gate.admit(signed('GET', '/ws/terminal/s1?watch=1&learner=lrn_ana'), 'upgrade')).toEqual({ ok: true, learnerId: watcherOf('lrn_ana'), watching: 'lrn_ana' });
    // The principal for another learner, a socket that is not a watch, any other cluster-bound request: refused.
    for (const [method, path, kind] of [
      ['GET', '/api/classes/cls_1/watch?learner=lrn_bo', 'http'],
      ['GET', '/api/classes/cls_1/watch', 'http'],
      ['GET', '/ws/terminal/s1?watch=1&learner=lrn_bo', 'upgrade'],
      ['GET', '/ws/terminal/s1?learner=lrn_ana', 'upgrade'],
      ['POST', '/api/labs/l18/check', 'http'],
      ['POST', '/api/terminal/session', 'http'],
      ['POST', '/api/query', 'http'],
    ] as const) expect(gate.admit(signed(method, path), kind), path).toMatchObject({ ok: false, status: 403, error: expect.stringMatching(/names/) });
    // A learner's own header on the watch endpoint is no watch (the endpoint then asks for an instructor, whose cookie is gone).
    expect(gate.admit(signed('GET', endpoint, 'lrn_bo'), 'http')).toEqual({ ok: true, learnerId: 'lrn_bo' });
  });
});
