// Where a `go build -debug-trace=<file>` spent its time: the spans of its actions summed by kind
// (build = compile a package, link, ...) and each link's span. docs/engine.md uses it on the k8s
// step of engine/build.sh (cold: GOCACHE=<empty temp dir>; links only: the Go build cache warm).
//   node bench/go-build-trace.ts <trace.json>
// Spans are wall time and overlap (go runs -p actions at once), so their sum exceeds the wall clock.

import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node bench/go-build-trace.ts <trace.json from go build -debug-trace>');
  process.exit(2);
}
const open = new Map<string, number>();
const byKind = new Map<string, { count: number; seconds: number }>();
const links: [string, number][] = [];
let first: number | undefined;
let last = 0;
// One event per line (`[`, then `{...}` and `,{...}`), so a trace still being written reads too.
for (const raw of readFileSync(file, 'utf8').split('\n')) {
  const line = raw.trim().replace(/^,/, '');
  if (!line.startsWith('{')) continue;
  let event: { name: string; ph: string; ts: number; tid?: number };
  try {
    event = JSON.parse(line) as typeof event;
  } catch {
    continue; // the last line of a trace cut off mid-write
  }
  const at = event.ts / 1e6;
  first ??= at;
  last = at;
  const match = /^Executing action \((\S+)(?: (.*))?\)$/.exec(event.name);
  if (!match) continue;
  const key = `${event.name}\0${event.tid ?? 0}`;
  if (event.ph === 'B') open.set(key, at);
  else if (event.ph === 'E' && open.has(key)) {
    const seconds = at - open.get(key)!;
    open.delete(key);
    const kind = byKind.get(match[1]!) ?? { count: 0, seconds: 0 };
    byKind.set(match[1]!, { count: kind.count + 1, seconds: kind.seconds + seconds });
    if (match[1] === 'link') links.push([match[2] ?? '?', seconds]);
  }
}
console.log(`wall clock of the trace: ${(last - (first ?? last)).toFixed(0)} s`);
for (const [kind, { count, seconds }] of [...byKind].sort((a, b) => b[1].seconds - a[1].seconds)) {
  console.log(`${kind.padEnd(14)} ${String(count).padStart(6)} actions ${seconds.toFixed(0).padStart(7)} s (sum of spans)`);
}
for (const [pkg, seconds] of links) console.log(`link ${pkg.padEnd(50)} ${seconds.toFixed(0).padStart(5)} s`);
