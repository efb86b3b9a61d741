// The LTI tool key: one process keeps it in its data directory (0600); several servers on one
// PostgreSQL database (fronts) must all sign with the key the platform fetched from any of them,
// so the first to start stores its own (its data directory's, or a new one) and all take that.
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allMigrations } from '../store/migrations.ts';
import { openedPerTest, testStores, type TestBackend } from '../store/store-test-kit.ts';
import { ensureToolKey, sharedToolKey, toolKeyFrom } from './tool-key.ts';

let work: string;
beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'irlab-tool-key-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});
const open = openedPerTest();

/** A data directory holding a tool key of its own (a single server's, before it moved to PostgreSQL). */
async function dataDirWithKey(name: string) {
  const dir = path.join(work, name);
  await mkdir(path.join(dir, 'lti'), { recursive: true });
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await writeFile(path.join(dir, 'lti', 'tool-key.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, { mode: 0o600 });
  return { dir, kid: toolKeyFrom(privateKey).kid };
}

describe('the LTI tool key of one process', () => {
  it('is made once in the data directory, 0600, and the same on every start', async () => {
    const first = ensureToolKey(work);
    expect((await stat(path.join(work, 'lti', 'tool-key.pem'))).mode & 0o777).toBe(0o600);
    expect(ensureToolKey(work).kid).toBe(first.kid);
    expect(first.publicJwk).not.toHaveProperty('d');
  });
});

describe.each(testStores())('the LTI tool key shared on $name', (backend: TestBackend) => {
  it('is the first server\'s for every server, its data directory\'s key kept', async () => {
    const stores = backend.openTogether ? await backend.openTogether(3, allMigrations) : [await open(backend)];
    try {
      const a = await dataDirWithKey('a');
      const b = await dataDirWithKey('b');
      const keys = await Promise.all([sharedToolKey(stores[0]!, a.dir), sharedToolKey(stores.at(-1)!, b.dir), sharedToolKey(stores[1 % stores.length]!, path.join(work, 'empty'))]);
      // All three sign with one key, and it is one that a server brought (not a third made by the race).
      expect(new Set(keys.map((k) => k.kid)).size).toBe(1);
      expect([a.kid, b.kid]).toContain(keys[0]!.kid);
      // A restart, or a new front with nothing of its own, gets the same.
      expect((await sharedToolKey(stores[0]!, path.join(work, 'new'))).kid).toBe(keys[0]!.kid);
    } finally {
      if (backend.openTogether) await Promise.all(stores.map((s) => s.close()));
    }
  });
});
