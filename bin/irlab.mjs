#!/usr/bin/env node
// The irlab CLI. Runs on the project's pinned Node 24 (npm's `node` package) even when the
// shell's node is older, because the CLI shares TypeScript modules that Node 24 runs directly.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const root = path.resolve(path.dirname(self), '..');
const major = Number(process.versions.node.split('.')[0]);

if (major < 24) {
  const pinned = path.join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(pinned)) {
    console.error(`irlab needs Node 24; this is Node ${process.versions.node} and ${pinned} is missing.`);
    console.error(`Run "npm install" in ${root} to fetch the pinned runtime.`);
    process.exit(1);
  }
  const child = spawnSync(pinned, [self, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(child.status ?? 1);
}

const { main } = await import('../src/server/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
