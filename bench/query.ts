/**
 * `npm run bench:query`: the query engine against jq on the same synthetic audit log, in one run.
 *
 * Generates (once, then reuses) logs of 100 k and 1 M events in the temp directory, then for each
 * of the five detections and three selective queries runs irlab (own process: scan time, wall
 * time, peak RSS) and jq doing the same selection (the query's filter translated by
 * bench/jq-filter.ts), checks both selected the same number of events, and prints ratios.
 * Processes run under `nice` so the machine stays usable. Figures and method: docs/query.md.
 *
 * Options: --events N (default 1000000), --skip-jq, --dir DIR.
 */
import { spawn, spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DETECTIONS } from '../src/lib/query/detections.ts';
import { parseQuery } from '../src/lib/query/parser.ts';
import { generateAuditLog } from './generate-audit-log.ts';
import { jqFilter } from './jq-filter.ts';

const { values } = parseArgs({ options: { events: { type: 'string', default: '1000000' }, 'skip-jq': { type: 'boolean', default: false }, dir: { type: 'string' } } });
const events = Number(values.events);
const dir = values.dir ?? path.join(tmpdir(), 'irlab-bench-query');
const node = process.execPath;
const child = path.join(import.meta.dirname, 'query-child.ts');

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

/** jq's wall time and how many events it selected (one compact output line per event). */
function runJq(file: string, filter: string): Promise<{ wallMs: number; selected: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const p = spawn('nice', ['-n', '10', 'jq', '-c', `select(${filter}) | .auditID`, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    let selected = 0;
    p.stdout.on('data', (d: Buffer) => {
      for (const byte of d) if (byte === 10) selected++;
    });
    p.on('close', (code) => (code === 0 ? resolve({ wallMs: performance.now() - started, selected }) : reject(new Error(`jq exited ${code}`))));
  });
}

const cases = [
  ...DETECTIONS.map((d) => ({ name: `detect ${d.id}`, query: d.query })),
  { name: 'attacker identity', query: 'user.username == "system:serviceaccount:production:web-app"' },
  { name: 'outside source IP', query: 'sourceIPs == "203.0.113.50"' },
  { name: 'cluster role binding writes', query: 'verb in ("create", "patch", "update") AND objectRef.resource == "clusterrolebindings"' },
];

await mkdir(dir, { recursive: true });
const sizes = [...new Set([Math.min(100_000, events), events])];
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

const big = files.get(events)!;
console.log(`\n${events.toLocaleString('en')} events; scan = irlab's time inside the process; wall = whole process incl. Node start-up; jq = wall time\n`);
const header = ['case', 'selected', 'parsed', 'irlab scan', 'MB/s', 'irlab wall', 'jq wall', 'jq/irlab'];
const rows: string[][] = [];
for (const c of cases) {
  const ours = await runChild(big, ['query', c.query]);
  let jqCells = ['-', '-'];
  if (jq) {
    const theirs = await runJq(big, jqFilter(parseQuery(c.query).filter!));
    if (theirs.selected !== ours.selected) throw new Error(`${c.name}: jq selected ${theirs.selected}, irlab ${ours.selected}`);
    jqCells = [`${(theirs.wallMs / 1000).toFixed(2)} s`, `${(theirs.wallMs / ours.wallMs).toFixed(1)}×`];
  }
  const row = [c.name, String(ours.selected), String(ours.parsed), `${(ours.ms / 1000).toFixed(2)} s`, (ours.bytes / 1e6 / (ours.ms / 1000)).toFixed(0), `${(ours.wallMs / 1000).toFixed(2)} s`, ...jqCells];
  rows.push(row);
  console.log(row.join(' | '));
}
const all = await runChild(big, ['detect']);
console.log(`all five detections in one pass: ${(all.ms / 1000).toFixed(2)} s scan (${(all.bytes / 1e6 / (all.ms / 1000)).toFixed(0)} MB/s), ${all.parsed} lines parsed`);
const full = await runChild(big, ['query', '| count', '--no-prefilter']);
console.log(`every line parsed (| count, no pre-filter): ${(full.ms / 1000).toFixed(2)} s (${(full.bytes / 1e6 / (full.ms / 1000)).toFixed(0)} MB/s)`);

console.log('\npeak RSS by log size (flat means streaming):');
for (const [name, args] of [
  ['selective query', ['query', 'user.username == "system:serviceaccount:production:web-app"']],
  ['count by user (aggregation)', ['query', '| count by user.username']],
  ['all five detections', ['detect']],
] as const) {
  const cells = [];
  for (const n of sizes) cells.push(`${n.toLocaleString('en')}: ${((await runChild(files.get(n)!, [...args])).maxRssKB / 1024).toFixed(0)} MB`);
  console.log(`  ${name}: ${cells.join(', ')}`);
}

console.log(`\n| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}`);
