import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Removes the run's temporary data directory (database, instructor token) after the server stops. */
export default function teardown() {
  const dir = process.env.IRLAB_E2E_DATA_DIR;
  if (dir && path.dirname(dir) === tmpdir() && path.basename(dir).startsWith('irlab-e2e-')) rmSync(dir, { recursive: true, force: true });
}
