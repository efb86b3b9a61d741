import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// engine/kind/lib.sh's content_hash names the base and node images: the same inputs must give the
// same tag (a rebuild is skipped), and any change that alters the image must give a new one.

const run = promisify(execFile);
const LIB = path.resolve(import.meta.dirname, '../../engine/kind/lib.sh');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'irlab-hash-'));
  await mkdir(path.join(dir, 'files/etc'), { recursive: true });
  await writeFile(path.join(dir, 'files/etc/a.conf'), 'a=1\n');
  await writeFile(path.join(dir, 'files/entrypoint'), '#!/bin/sh\n');
  await writeFile(path.join(dir, 'script.sh'), 'echo hi\n');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function hash(): Promise<string> {
  const script = 'source "$0" && content_hash "$1" "$2"';
  const { stdout } = await run('bash', ['-c', script, LIB, path.join(dir, 'script.sh'), path.join(dir, 'files')], {
    env: { ...process.env, IRLAB_CACHE: dir },
  });
  return stdout.trim();
}

describe('content_hash', () => {
  it('is 16 hex digits and stable for the same inputs', async () => {
    const first = await hash();
    expect(first).toMatch(/^[0-9a-f]{16}$/);
    expect(await hash()).toBe(first);
  });

  it('changes with a file content, a mode, a rename or a new file', async () => {
    const seen = new Set([await hash()]);
    await writeFile(path.join(dir, 'files/etc/a.conf'), 'a=2\n');
    seen.add(await hash());
    await chmod(path.join(dir, 'files/entrypoint'), 0o755);
    seen.add(await hash());
    await rename(path.join(dir, 'files/etc/a.conf'), path.join(dir, 'files/etc/b.conf'));
    seen.add(await hash());
    await writeFile(path.join(dir, 'files/etc/c.conf'), '');
    seen.add(await hash());
    await writeFile(path.join(dir, 'script.sh'), 'echo bye\n');
    seen.add(await hash());
    expect(seen.size).toBe(6);
  });
});
