/**
 * `npm run bench:query`: `irlab query` end to end against jq on the same synthetic audit log, in
 * one run, timed by hyperfine (same file, same selection, same machine state).
 *
 * Generates (once, then reuses) a log of --events N events (default 300,000, about 325 MB) in the
 * temp directory. For each of the detections and three selective queries: checks in one process
 * (bench/query-child.ts) that irlab and jq select the same events (the query's filter translated
 * by bench/jq-filter.ts), then hyperfine runs `irlab query '<query>' --file LOG --format json`
 * (whole process: Node's start, loading, the scan, output; by default in parts on the idle
 * cores), the same with `--threads <cores>` and `--threads 1`, and
 * `jq -c 'select(<same filter>) | .auditID' LOG`, and the table shows means and the ratio
 * jq / irlab. Everything runs under `nice`. Figures and method: docs/query.md.
 *
 * Options: --events N, --runs N (hyperfine runs per command, default 3), --skip-jq, --dir DIR,
 * --only TEXT (repeatable: only the cases whose name contains TEXT),
 * --rss (also peak RSS by log size, 100 k and N events, with the in-process scan figures).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DETECTIONS } from '../src/lib/query/detections.ts';
import { parseQuery } from '../src/lib/query/parser.ts';
import { generateAuditLog } from './generate-audit-log.ts';
import { jqFilter } from './jq-filter.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '300000' },
    runs: { type: 'string', default: '3' },
    'skip-jq': { type: 'boolean', default: false },
    rss: { type: 'boolean', default: false },
    only: { type: 'string', multiple: true },
    dir: { type: 'string' },
  },
});
const events = Number(values.events);
const dir = values.dir ?? path.join(tmpdir(), 'irlab-bench-query');
const node = process.execPath;
const child = path.join(import.meta.dirname, 'query-child.ts');
const bin = path.join(import.meta.dirname, '..', 'bin', 'irlab.mjs');

/** One word for sh, whatever it holds (queries have quotes and newlines). */
function sh(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}

interface Timing {
  mean: number;
  stddev: number;
}

/** hyperfine over the given commands (one run, one machine state); mean and σ in seconds each. */
function hyperfine(commands: [string, string][], runs: string): Timing[] {
  const json = path.join(dir, 'hyperfine.json');
  const result = spawnSync('nice', ['-n', '10', 'hyperfine', '--runs', runs, '--export-json', json, ...commands.flatMap(([name, command]) => ['-n', name, command])], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0) throw new Error(`hyperfine exited ${result.status}`);
  return (JSON.parse(readFileSync(json, 'utf8')) as { results: Timing[] }).results;
}

interface ChildResult {
  ms: number;
  bytes: number;
  lines: number;
  parsed: number;
  selected: number;
  output: number;
  maxRssKB: number;
}

function runChild(file: string, args: string[]): Promise<ChildResult & { wallMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const p = spawn('nice', ['-n', '10', node, child, file, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d));
    p.on('close', (code) => (code === 0 ? resolve({ ...(JSON.parse(out) as ChildResult), wallMs: performance.now() - started }) : reject(new Error(`query-child exited ${code}`))));
  });
}

const cases = [
  ...DETECTIONS.map((d) => ({ name: `detect ${d.id}`, query: d.query })),
  { name: 'attacker identity', query: 'user.username == "system:serviceaccount:production:web-app"' },
  { name: 'outside source IP', query: 'sourceIPs == "203.0.113.50"' },
  { name: 'cluster role binding writes', query: 'verb in ("create", "patch", "update") AND objectRef.resource == "clusterrolebindings"' },
];

await mkdir(dir, { recursive: true });
const sizes = values.rss ? [...new Set([Math.min(100_000, events), events])] : [events];
const files = new Map<number, string>();
for (const n of sizes) {
  const file = path.join(dir, `audit-${n}.log`);
  const t = performance.now();
  await generateAuditLog(n, file, (d) => process.stderr.write(`\rgenerating ${file}: ${d} / ${n} events`));
  const took = performance.now() - t;
  if (took > 1000) process.stderr.write(`\n`);
  const size = statSync(file).size;
  console.log(`log: ${file} — ${n.toLocaleString('en')} events, ${(size / 1e6).toFixed(0)} MB, ${(size / (n + 10)).toFixed(0)} B/event${took > 1000 ? ` (generated in ${(took / 1000).toFixed(0)} s)` : ' (reused)'}`);
  files.set(n, file);
}

let jq = !values['skip-jq'];
if (jq) {
  const version = spawnSync('jq', ['--version'], { encoding: 'utf8' });
  if (version.status !== 0) {
    console.log('jq not found: install it with `apt-get install -y jq` (as root) to compare; running irlab alone.');
    jq = false;
  } else console.log(`jq: ${version.stdout.trim()}`);
}
if (spawnSync('hyperfine', ['--version']).status !== 0) {
  console.error('hyperfine is missing: install it with `apt-get install -y hyperfine` (as root).');
  process.exit(1);
}

const big = files.get(events)!;
const cores = availableParallelism();
console.log(`\n${events.toLocaleString('en')} events; wall time of whole processes (hyperfine, ${values.runs} runs each, mean ± σ); Node ${process.versions.node}, ${cores} cores, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`);
const threads = Math.min(cores, 4);
const header = ['case', 'selected', 'lines parsed', 'irlab (default)', `irlab --threads ${threads}`, 'irlab --threads 1', 'jq', 'jq / irlab (default)'];
const rows: string[][] = [];
const seconds = (t: Timing) => `${t.mean.toFixed(2)} ± ${t.stddev.toFixed(2)} s`;
for (const c of cases.filter((c) => !values.only || values.only.some((text) => c.name.includes(text)))) {
  const ours = await runChild(big, ['query', c.query]);
  const irlab = `${sh(node)} ${sh(bin)} query ${sh(c.query)} --file ${sh(big)} --format json`;
  // One run first, so that Node's compile cache and the page cache are warm for every timed run.
  spawnSync(node, [bin, 'query', c.query, '--file', big, '--format', 'json'], { stdio: 'ignore' });
  const commands: [string, string][] = [
    ['irlab', irlab],
    [`irlab --threads ${threads}`, `${irlab} --threads ${threads}`],
    ['irlab --threads 1', `${irlab} --threads 1`],
  ];
  // jq's selection is kept from its timed runs (one audit ID a line) and checked against irlab's.
  const jqOut = path.join(dir, 'jq-selected.txt');
  if (jq) commands.push(['jq', `jq -c ${sh(`select(${jqFilter(parseQuery(c.query).filter!)}) | .auditID`)} ${sh(big)} > ${sh(jqOut)}`]);
  process.stderr.write(`${c.name}\n`);
  const [auto, parts, one, theirs] = hyperfine(commands, values.runs);
  if (jq) {
    const selected = readFileSync(jqOut, 'utf8').split('\n').filter(Boolean).length;
    if (selected !== ours.selected) throw new Error(`${c.name}: jq selected ${selected}, irlab ${ours.selected}`);
  }
  const row = [c.name, String(ours.selected), String(ours.parsed), seconds(auto!), seconds(parts!), seconds(one!), theirs ? seconds(theirs) : '-', theirs ? `${(theirs.mean / auto!.mean).toFixed(1)}×` : '-'];
  rows.push(row);
  console.log(row.join(' | '));
}

if (values.rss) {
  const all = await runChild(big, ['detect']);
  console.log(`all detections in one pass (one thread, in-process): ${(all.ms / 1000).toFixed(2)} s scan (${(all.bytes / 1e6 / (all.ms / 1000)).toFixed(0)} MB/s), ${all.parsed} lines parsed`);
  console.log('\npeak RSS by log size (one thread, in-process; flat means streaming):');
  for (const [name, args] of [
    ['selective query', ['query', 'user.username == "system:serviceaccount:production:web-app"']],
    ['count by user (aggregation)', ['query', '| count by user.username']],
    ['all detections', ['detect']],
  ] as const) {
    const cells = [];
    for (const n of sizes) cells.push(`${n.toLocaleString('en')}: ${((await runChild(files.get(n)!, [...args])).maxRssKB / 1024).toFixed(0)} MB`);
    console.log(`  ${name}: ${cells.join(', ')}`);
  }
}

console.log(`\n| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}`);
