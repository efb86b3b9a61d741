/**
 * One measured run for bench/query.ts, in its own process so that its peak RSS is its own.
 * Usage: node bench/query-child.ts FILE (query TEXT | detect) [--no-prefilter]
 * Prints one JSON line: scan milliseconds, bytes, lines, lines parsed, events the filter
 * selected, output size, peak RSS.
 */
import { compile } from '../src/lib/query/evaluate.ts';
import { parseQuery } from '../src/lib/query/parser.ts';
import { createRun } from '../src/lib/query/pipeline.ts';
import { requiredLiterals } from '../src/lib/query/prefilter.ts';
import { DETECTIONS } from '../src/lib/query/detections.ts';
import { scanFile } from '../src/server/query/scan.ts';

const [file, mode, text] = process.argv.slice(2);
const prefilter = !process.argv.includes('--no-prefilter');
const queries = mode === 'detect' ? DETECTIONS.map((d) => d.query) : [text!];
let selected = 0;
const runs = queries.map((q) => {
  const query = parseQuery(q);
  const filter = query.filter ? compile(query.filter) : () => true;
  const run = createRun(query, { keepEvents: 1000 });
  return {
    run,
    consumer: {
      clauses: requiredLiterals(query),
      push: (event: unknown) => {
        if (filter(event)) selected++;
        return run.push(event);
      },
    },
  };
});
const started = performance.now();
const report = await scanFile(file!, runs.map((r) => r.consumer), { prefilter });
const outputs = runs.map((r) => r.run.finish());
const ms = performance.now() - started;
const size = outputs.reduce((n, o) => n + (o.kind === 'events' ? o.total : o.rows.length), 0);
console.log(JSON.stringify({ ms, bytes: report.bytes, lines: report.lines, parsed: report.parsed, malformed: report.malformed, selected, output: size, maxRssKB: process.resourceUsage().maxRSS }));
