/**
 * `irlab query` and `irlab detect`: the query engine on the command line. Results go to stdout
 * (table, JSON lines or CSV); the summary, malformed lines and errors go to stderr, so stdout can
 * be piped.
 */
import { parseArgs } from 'node:util';
import { QUERY_USAGE } from '../cli/usage.ts';
import { DETECTIONS } from '../../lib/query/detections.ts';
import { formatQueryError, QueryError } from '../../lib/query/errors.ts';
import { csvEventLine, csvHeader, csvRowLine, formatTable, table, type OutputFormat } from './format.ts';
import { runDetections, runQueryOnSource } from './run.ts';
import { FileAuditLogSource, type AuditLogSource } from './source.ts';
import type { ScanReport } from './scan.ts';
import { findCluster } from '../cluster/find-cluster.ts';
import { formatClusterError, type ClusterProvider } from '../cluster/types.ts';

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Where `--cluster N` looks for the cluster; default: the providers of this machine. */
  providers?: () => ClusterProvider[];
}

const defaultIo: Io = { out: (t) => process.stdout.write(`${t}\n`), err: (t) => process.stderr.write(`${t}\n`) };

export { QUERY_USAGE } from '../cli/usage.ts';

const SOURCE_OPTIONS = {
  file: { type: 'string' },
  cluster: { type: 'string' },
  format: { type: 'string', default: 'table' },
  'no-prefilter': { type: 'boolean', default: false },
  threads: { type: 'string' },
} as const;

/** `--threads N`: how many threads scan a big file (1: one sequential scan); default: the idle cores (parallel-scan.ts). */
function parseThreads(text: string | undefined, io: Io): { threads?: number } | undefined {
  if (text === undefined) return {};
  const n = Number(text);
  if (Number.isInteger(n) && n >= 1 && n <= 64) return { threads: n };
  io.err(`irlab: --threads ${text}: give a whole number from 1 to 64`);
  return undefined;
}

async function openSource(values: { file?: string; cluster?: string }, io: Io): Promise<AuditLogSource | undefined> {
  if (!values.file && values.cluster === undefined) {
    io.err('irlab: say where the audit log is: --file audit.log or --cluster N');
    return undefined;
  }
  try {
    // The cluster code (and the Kubernetes client) is loaded only when a cluster is named.
    const providers = io.providers ?? (async () => (await import('../cluster/select-provider.ts')).allProviders());
    const file = values.file ?? (await findCluster(await providers(), values.cluster!)).auditLogPath;
    return await FileAuditLogSource.open(file);
  } catch (error) {
    io.err(`irlab: ${formatClusterError(error)}`);
    return undefined;
  }
}

function summary(report: ScanReport, matched: string, started: number, io: Io) {
  const seconds = (performance.now() - started) / 1000;
  const mb = report.bytes / 1e6;
  io.err(`${matched}; scanned ${report.lines} lines (${mb.toFixed(1)} MB) in ${seconds.toFixed(2)} s${report.stoppedEarly ? ', stopped early at the head' : ''}`);
  if (report.malformed) {
    io.err(`${report.malformed} malformed line${report.malformed === 1 ? '' : 's'} skipped:`);
    for (const m of report.malformedLines) io.err(`  line ${m.line}: ${m.reason}`);
    if (report.malformed > report.malformedLines.length) io.err(`  ... and ${report.malformed - report.malformedLines.length} more`);
  }
}

function parseFormat(text: string | undefined, allowed: OutputFormat[], io: Io): OutputFormat | undefined {
  if (allowed.includes(text as OutputFormat)) return text as OutputFormat;
  io.err(`irlab: --format ${text}: use ${allowed.join(', ')}`);
  return undefined;
}

export async function queryCommand(args: string[], io: Io = defaultIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: SOURCE_OPTIONS, allowPositionals: true });
  } catch (error) {
    io.err(`irlab query: ${(error as Error).message}\n\n${QUERY_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    io.err(`irlab query: give the query as one quoted argument\n\n${QUERY_USAGE}`);
    return 2;
  }
  const queryText = positionals[0]!;
  const format = parseFormat(values.format, ['table', 'json', 'csv'], io);
  if (!format) return 2;
  const threads = parseThreads(values.threads, io);
  if (!threads) return 2;
  const source = await openSource(values, io);
  if (!source) return 2;
  const started = performance.now();
  let headerDone = false;
  const streamed = format !== 'table';
  try {
    const { output, report } = await runQueryOnSource(source, queryText, {
      prefilter: !values['no-prefilter'],
      ...threads,
      keepEvents: streamed ? 0 : 10_000,
      onEvent: streamed
        ? (event) => {
            if (format === 'json') io.out(JSON.stringify(event));
            else {
              if (!headerDone) io.out(csvHeader('events'));
              headerDone = true;
              io.out(csvEventLine(event));
            }
          }
        : undefined,
    });
    let matched: string;
    if (output.kind === 'events') {
      // Sorted events are not streamed: they come out at the end.
      if (format === 'csv' && !headerDone) io.out(csvHeader('events'));
      if (streamed) for (const event of output.events) io.out(format === 'json' ? JSON.stringify(event) : csvEventLine(event));
      if (format === 'table') {
        if (output.events.length) io.out(formatTable(output));
        if (output.total > output.events.length) io.err(`(showing the first ${output.events.length}; --format json or csv prints all)`);
      }
      matched = `${output.total} matching event${output.total === 1 ? '' : 's'}`;
    } else {
      if (format === 'json') for (const row of output.rows) io.out(JSON.stringify(row));
      else if (format === 'csv') {
        io.out(csvHeader(output));
        for (const row of output.rows) io.out(csvRowLine(output.columns, row));
      } else if (output.rows.length) io.out(formatTable(output));
      matched = `${output.rows.length} row${output.rows.length === 1 ? '' : 's'}`;
    }
    summary(report, matched, started, io);
    return 0;
  } catch (error) {
    if (error instanceof QueryError) {
      io.err(formatQueryError(queryText, error));
      return 2;
    }
    throw error;
  }
}

export async function detectCommand(args: string[], io: Io = defaultIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...SOURCE_OPTIONS, list: { type: 'boolean' }, sigma: { type: 'boolean' }, falco: { type: 'boolean' } }, allowPositionals: true });
  } catch (error) {
    io.err(`irlab detect: ${(error as Error).message}\n\n${QUERY_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.list) {
    io.out(table(['id', 'ATT&CK', 'level', 'title'], DETECTIONS.map((r) => [r.id, r.attack.map((t) => t.id).join(' '), r.level, r.title])));
    return 0;
  }
  if (values.sigma || values.falco) {
    const rules = positionals.length ? DETECTIONS.filter((r) => positionals.includes(r.id)) : DETECTIONS;
    const unknown = positionals.filter((id) => !DETECTIONS.some((r) => r.id === id));
    if (unknown.length) {
      io.err(`irlab detect: no detection ${unknown.map((u) => `"${u}"`).join(', ')}; known: ${DETECTIONS.map((r) => r.id).join(', ')}`);
      return 2;
    }
    const { ExportError, toFalcoRule, toSigmaRule } = await import('../../lib/query/export.ts');
    try {
      io.out(rules.map((r) => (values.sigma ? toSigmaRule(r) : toFalcoRule(r))).join(values.sigma ? '---\n' : '\n'));
    } catch (error) {
      if (error instanceof ExportError) {
        io.err(`irlab detect: ${error.message}`);
        return 1;
      }
      throw error;
    }
    return 0;
  }
  const format = parseFormat(values.format, ['table', 'json'], io);
  if (!format) return 2;
  const threads = parseThreads(values.threads, io);
  if (!threads) return 2;
  const source = await openSource(values, io);
  if (!source) return 2;
  const started = performance.now();
  const { results, report } = await runDetections(source, { prefilter: !values['no-prefilter'], ...threads });
  let fired = 0;
  for (const { rule, output } of results) {
    const hits = output.kind === 'events' ? output.events : output.rows;
    if (hits.length) fired++;
    if (format === 'json') {
      for (const hit of hits) io.out(JSON.stringify({ rule: rule.id, attack: rule.attack.map((t) => t.id), level: rule.level, [output.kind === 'events' ? 'event' : 'row']: hit }));
      continue;
    }
    io.out(`${hits.length ? '!!' : 'ok'} ${rule.id} (${rule.attack.map((t) => t.id).join(', ')}, ${rule.level}): ${hits.length ? `${hits.length} ${output.kind === 'events' ? 'event' : 'row'}${hits.length === 1 ? '' : 's'}` : 'nothing'}`);
    if (hits.length) io.out(`${formatTable(output).replace(/^/gm, '   ')}\n`);
  }
  summary(report, `${fired} of ${results.length} detections fired`, started, io);
  return 0;
}
