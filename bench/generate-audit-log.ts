/**
 * Writes a synthetic audit log of N background events (plus one attack) for the query benchmark,
 * once: an existing file with the same name is reused. Usage: node bench/generate-audit-log.ts N FILE
 */
import { createWriteStream, existsSync, renameSync } from 'node:fs';
import { once } from 'node:events';
import { seededRandom, syntheticEvents, toAuditLine } from '../src/server/query/synthetic-audit-log.ts';

export async function generateAuditLog(events: number, file: string, onProgress?: (done: number) => void): Promise<void> {
  if (existsSync(file)) return;
  const partial = `${file}.partial`;
  const out = createWriteStream(partial, { highWaterMark: 1 << 20 });
  let batch: string[] = [];
  let done = 0;
  for (const { event } of syntheticEvents({ random: seededRandom(events), background: events, attackAt: 0.61, gapMicros: 14_400_000_000 / events })) {
    batch.push(toAuditLine(event));
    if (batch.length === 2000) {
      if (!out.write(`${batch.join('\n')}\n`)) await once(out, 'drain');
      batch = [];
      done += 2000;
      if (done % 100_000 === 0) onProgress?.(done);
    }
  }
  if (batch.length) out.write(`${batch.join('\n')}\n`);
  out.end();
  await once(out, 'finish');
  renameSync(partial, file);
}

if (import.meta.main) {
  const [n = '1000000', file = 'audit.log'] = process.argv.slice(2);
  await generateAuditLog(Number(n), file, (d) => process.stderr.write(`\r${d} events`));
  process.stderr.write('\n');
}
