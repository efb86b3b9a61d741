import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { describe, expect, it } from 'vitest';

import { engineDir, podSandboxBinaryName } from './binaries.ts';

describe('podSandboxBinaryName', () => {
  it('names the binary exactly as engine/build.sh does (a hash of the podsandbox sources)', async () => {
    const engine = engineDir();
    // build.sh's own line, run by bash: the two cannot drift apart unnoticed.
    const line = (await readFile(join(engine, 'build.sh'), 'utf8')).split('\n').find((l) => l.startsWith('SANDBOX_HASH='));
    expect(line).toBeDefined();
    const { stdout } = await promisify(execFile)('bash', ['-c', `set -euo pipefail; HERE=$1; ${line}; echo "$SANDBOX_HASH"`, 'bash', engine]);
    expect(podSandboxBinaryName()).toBe(`irlab-pod-sandbox-${stdout.trim()}`);
    expect(stdout.trim()).toMatch(/^[0-9a-f]{16}$/);
  });
});
