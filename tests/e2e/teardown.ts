import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Servers whose data directory is `dir` (their environment says so). */
function serversOf(dir: string): number[] {
  const wanted = `IRLAB_DATA_DIR=${dir}\0`;
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('serve.ts') && readFileSync(`/proc/${pid}/environ`, 'utf8').includes(wanted);
      } catch {
        return false; // gone, or not ours to read
      }
    });
}

/**
 * Stops the run's server, then removes its temporary data directory (database, instructor token,
 * workspaces). Playwright calls this before it stops the web server itself, and a directory
 * removed under a running server takes the owner files of its clusters with it: a server then
 * killed after gracefulShutdown's timeout (a loaded machine) would leave clusters nothing can
 * reap. So the server gets its SIGTERM here and is waited for (it deletes its clusters and
 * unmounts the workspaces); Playwright then finds it gone. Mounts still there are detached
 * lazily, so the removal neither fails with EBUSY nor leaves loop mounts behind.
 */
export default async function teardown() {
  const dir = process.env.IRLAB_E2E_DATA_DIR;
  if (!dir || path.dirname(dir) !== tmpdir() || !path.basename(dir).startsWith('irlab-e2e-')) return;
  const servers = serversOf(dir);
  for (const pid of servers) process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 120_000;
  while (serversOf(dir).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
  for (const pid of serversOf(dir)) {
    console.error(`e2e teardown: the server (pid ${pid}) did not stop within 120 s of SIGTERM; killing it and leaving ${dir} (its owner files name what it left)`);
    process.kill(pid, 'SIGKILL');
    return;
  }
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
