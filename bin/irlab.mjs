#!/usr/bin/env node
// The irlab CLI. Runs on the project's pinned Node 24 (npm's `node` package) even when the
// shell's node is older, because the CLI shares TypeScript modules that Node 24 runs directly.
// Start-up matters (`irlab help` answers within a few tens of ms of Node's own start): this file
// loads nothing but what it needs, and the commands load lazily (src/server/cli/main.ts).
import { existsSync } from 'node:fs';
import module from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const major = Number(process.versions.node.split('.')[0]);

if (major < 24) {
  const root = path.resolve(path.dirname(self), '..');
  const pinned = path.join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(pinned)) {
    console.error(`irlab needs Node 24; this is Node ${process.versions.node} and ${pinned} is missing.`);
    console.error(`Run "npm install" in ${root} to fetch the pinned runtime.`);
    process.exit(1);
  }
  const args = [self, ...process.argv.slice(2)];
  // Replacing this process (Node 22.15+) costs nothing after this start and leaves one process
  // for signals and exit codes; older Nodes wait for a child instead.
  if (typeof process.execve === 'function') process.execve(pinned, [pinned, ...args], process.env);
  const { spawnSync } = await import('node:child_process');
  const child = spawnSync(pinned, args, { stdio: 'inherit' });
  process.exit(child.status ?? 1);
}

// V8's code cache for our modules and their TypeScript stripped of types, kept between runs (in
// the OS temp dir, or NODE_COMPILE_CACHE): a warm `irlab` skips most parsing and compiling.
module.enableCompileCache?.();
const { main } = await import('../src/server/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
