import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allMigrations, openSqliteStore } from '../store/index.ts';
import { xapiCommand } from './cli.ts';
import { XapiOutbox } from './outbox.ts';
import { statementOf } from './statements.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'irlab-xapi-cli-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(args: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await xapiCommand(args, { env: { IRLAB_DATA_DIR: dir, ...env }, cwd: dir, out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('irlab xapi', () => {
  it('status shows delivered, waiting with the last reason, refused with theirs; exit 1 while any is refused; retry puts them back', async () => {
    const store = await openSqliteStore(path.join(dir, 'irlab.db'), allMigrations);
    const outbox = new XapiOutbox(store, { clock: () => new Date('2026-12-07T10:00:00Z') });
    const add = () => outbox.add((id) => statementOf({ type: 'launched', learnerId: 'lrn_1', activity: { kind: 'lab', slug: 'l18', title: 'L18' }, runId: 'run_1', at: '2026-12-07T10:00:00.000Z' }, { id, publicUrl: 'https://irlab.example.org', actor: { learnerId: 'lrn_1' } }));
    const [delivered, refused] = [await add(), await add(), await add()];
    await outbox.delivered([delivered!]);
    await outbox.failed(refused!, 'the LRS answered HTTP 400: statement 0: verb.id is not an IRI');
    await outbox.retrying((await outbox.pending(10)).map((e) => e.id), 'the LRS at https://lrs.example.org/xapi cannot be reached (ECONNREFUSED)');
    await store.close();

    const status = await run(['status'], { IRLAB_XAPI_ENDPOINT: 'https://lrs.example.org/xapi', IRLAB_XAPI_KEY: 'k', IRLAB_XAPI_SECRET: 'never-shown' });
    expect(status.code).toBe(1);
    expect(status.out).toContain('statements go to https://lrs.example.org/xapi');
    expect(status.out).toMatch(/delivered {2}1 \(last at 2026-12-07T10:00:00.000Z\)/);
    expect(status.out).toMatch(/waiting {4}1 \(oldest from 2026-12-07T10:00:00.000Z; last try: the LRS at .* cannot be reached \(ECONNREFUSED\)\)/);
    expect(status.out).toMatch(/refused {4}1/);
    expect(status.out).toContain(`${refused}  2026-12-07T10:00:00.000Z  launched https://irlab.example.org/labs/l18`);
    expect(status.out).toContain('verb.id is not an IRI');
    expect(status.out).not.toContain('never-shown');

    const json = await run(['status', '--json']);
    expect(JSON.parse(json.out)).toMatchObject({ endpoint: null, pending: 1, failed: 1, delivered: 1 });

    expect((await run(['retry'])).out).toMatch(/1 refused statement\(s\) are back in the outbox; the server sends them once IRLAB_XAPI_ENDPOINT is set/);
    const after = await run(['status']);
    expect(after.code).toBe(0);
    expect(after.out).toMatch(/waiting {4}2/);
  });

  it('says where it looked when there is no database, and how to use it when asked wrongly', async () => {
    expect(await run(['status'])).toMatchObject({ code: 1, err: expect.stringMatching(/no database at .*irlab\.db; run this where the server runs/) });
    expect(await run(['purge'])).toMatchObject({ code: 2, err: expect.stringMatching(/unknown use "purge"[\s\S]*irlab xapi status/) });
  });
});
