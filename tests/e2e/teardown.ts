import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Removes the run's temporary data directory (database, instructor token, workspaces). Playwright
 * calls this before it stops the web server, whose learners' workspaces are still mounted
 * (each one a size-limited filesystem, docs/terminal.md): those are detached lazily first, so the
 * removal neither fails with EBUSY nor leaves loop mounts behind; the server's own unmount at
 * shutdown then finds nothing left to do.
 */
export default function teardown() {
  const dir = process.env.IRLAB_E2E_DATA_DIR;
  if (!dir || path.dirname(dir) !== tmpdir() || !path.basename(dir).startsWith('irlab-e2e-')) return;
  const mountPoints = existsSync('/proc/self/mountinfo')
    ? readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .map((line) => line.split(' ')[4]?.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))))
        .filter((point): point is string => point !== undefined && point.startsWith(`${dir}/`))
    : [];
  for (const point of mountPoints.reverse()) {
    try {
      execFileSync('umount', ['--lazy', point], { stdio: 'ignore' });
    } catch {
      // Already gone (the server stopped first): nothing to detach.
    }
  }
  rmSync(dir, { recursive: true, force: true });
}
