/**
 * `npm run bench:cli`: how long `irlab` takes to answer, against Node's own start (`node -e 0`),
 * measured by hyperfine in one run: `help`, `validate` of one lab file and `policy eval`, through
 * the pinned Node (what `npx irlab` and npm scripts run) and, when the shell has an older Node,
 * through it (the shim hands over to the pinned one). The target (issue 17): within 150 ms of
 * Node's own start. Figures and method: docs/cli.md.
 *
 * Options: --runs N (default 20).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
const root = path.resolve(import.meta.dirname, '..');
const node = process.execPath;
const bin = path.join(root, 'bin/irlab.mjs');
const TARGET_MS = 150;

if (spawnSync('hyperfine', ['--version']).status !== 0) {
  console.error('hyperfine is missing: install it with `apt-get install -y hyperfine` (as root).');
  process.exit(1);
}

const dir = await mkdtemp(path.join(tmpdir(), 'irlab-bench-cli-'));
try {
  const policy = path.join(dir, 'audit-policy.yaml');
  await writeFile(policy, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n  - level: None\n    users: ["system:kube-proxy"]\n  - level: RequestResponse\n    resources: [{ group: "", resources: ["secrets"] }]\n  - level: Metadata\n');
  const commands: [string, string][] = [
    ['node -e 0', `${node} -e 0`],
    ['irlab help', `${node} ${bin} help`],
    ['irlab validate labs/l18/lab.yaml', `${node} ${bin} validate ${path.join(root, 'labs/l18/lab.yaml')}`],
    ['irlab policy eval', `${node} ${bin} policy eval ${policy} --verb get --resource secrets --namespace production`],
  ];
  const system = spawnSync('/usr/bin/env', ['-i', 'PATH=/usr/local/bin:/usr/bin:/bin', 'node', '--version'], { encoding: 'utf8' });
  const systemNode = system.status === 0 && Number(system.stdout.slice(1).split('.')[0]) < 24 ? system.stdout.trim() : undefined;
  if (systemNode) commands.push([`irlab help via the shell's Node ${systemNode}`, `/usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin node ${bin} help`]);
  // One warm-up run each fills Node's compile cache, as any earlier irlab command would have.
  const json = path.join(dir, 'hyperfine.json');
  execFileSync('nice', ['-n', '5', 'hyperfine', '-N', '--warmup', '2', '--runs', values.runs, '--export-json', json, ...commands.flatMap(([name, command]) => ['-n', name, command])], { stdio: ['ignore', 'ignore', 'inherit'] });
  const { results } = JSON.parse(await readFile(json, 'utf8')) as { results: { command: string; mean: number; stddev: number; median: number; user: number; system: number }[] };
  const base = results[0]!.median * 1000;
  // CPU time barely depends on how busy the machine is; wall time does (two cores shared by many).
  const cpu = (r: (typeof results)[number]) => (r.user + r.system) * 1000;
  const baseCpu = cpu(results[0]!);
  console.log(`Node ${process.versions.node}; median of ${values.runs} runs; load average ${(await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ')}\n`);
  console.log('| command | median | mean ± σ | over `node -e 0` | CPU (user+sys) | CPU over `node -e 0` | target (wall) |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of results) {
    const over = r.median * 1000 - base;
    const target = r === results[0] ? '' : over <= TARGET_MS ? `≤ ${TARGET_MS} ms: met` : `≤ ${TARGET_MS} ms: MISSED`;
    const first = r === results[0];
    console.log(
      `| ${r.command} | ${(r.median * 1000).toFixed(0)} ms | ${(r.mean * 1000).toFixed(0)} ± ${(r.stddev * 1000).toFixed(0)} ms | ${first ? '' : `+${over.toFixed(0)} ms`} | ${cpu(r).toFixed(0)} ms | ${first ? '' : `+${(cpu(r) - baseCpu).toFixed(0)} ms`} | ${target} |`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
