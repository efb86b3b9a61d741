// The postgres project's server: one throwaway cluster from Debian's binaries (scripts/postgres.sh)
// for the whole run, its URL provided to the tests (store-test-kit.ts makes a database per store).
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

const run = promisify(execFile);
const script = path.resolve(import.meta.dirname, '../../scripts/postgres.sh');

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(path.join(tmpdir(), 'irlab-postgres-'));
  const { stdout } = await run('bash', [script, 'start', dir], { timeout: 180_000 });
  project.provide('postgresUrl', stdout.trim());
  return async () => {
    await run('bash', [script, 'stop', dir], { timeout: 120_000 });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}
