// Reads the API server's log-backend audit file: one audit.k8s.io/v1 Event
// JSON object per line. The file is read by byte offset so a follower never
// re-emits events, and a partial last line (the API server mid-write) is held
// back until its newline arrives.

import { open, stat } from 'node:fs/promises';

import { systemClock, type Clock } from './runtime.ts';
import { ClusterError, type AuditEvent, type AuditLogOptions } from './types.ts';

export interface ReadAuditLogOptions extends AuditLogOptions {
  clock?: Clock;
  /** How often a follower checks for new bytes. */
  pollMs?: number;
  /** Called with the offset just past each emitted event (resume points). */
  onOffset?: (offset: number) => void;
}

const CHUNK = 64 * 1024;

export async function* readAuditLog(path: string, options: ReadAuditLogOptions = {}): AsyncGenerator<AuditEvent> {
  const clock = options.clock ?? systemClock;
  const pollMs = options.pollMs ?? 200;
  let offset = options.fromOffset ?? 0;
  let carry = Buffer.alloc(0);

  for (;;) {
    if (options.signal?.aborted) return;
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch (err) {
      // The cluster was deleted under a follower: the stream simply ends.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && offset > 0) return;
      throw new ClusterError(`cannot read audit log ${path}: ${(err as Error).message}`);
    }
    if (size < offset) {
      // Truncated or rotated: the API server starts a fresh file.
      offset = 0;
      carry = Buffer.alloc(0);
    }
    if (size > offset) {
      const handle = await open(path, 'r');
      try {
        while (offset < size) {
          const buf = Buffer.alloc(Math.min(CHUNK, size - offset));
          const { bytesRead } = await handle.read(buf, 0, buf.length, offset);
          if (bytesRead === 0) break;
          offset += bytesRead;
          carry = Buffer.concat([carry, buf.subarray(0, bytesRead)]);
          let nl: number;
          let consumed = offset - carry.length;
          while ((nl = carry.indexOf(0x0a)) !== -1) {
            const line = carry.subarray(0, nl).toString('utf8').trim();
            carry = carry.subarray(nl + 1);
            consumed += nl + 1;
            if (!line) continue;
            yield parseAuditLine(line, path);
            options.onOffset?.(consumed);
          }
        }
      } finally {
        await handle.close();
      }
    }
    if (!options.follow) return;
    try {
      await clock.sleep(pollMs, options.signal);
    } catch {
      return; // aborted
    }
  }
}

export function parseAuditLine(line: string, source = 'audit log'): AuditEvent {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new ClusterError(`${source}: line is not JSON: ${line.slice(0, 120)}`);
  }
  const event = value as Partial<AuditEvent> | null;
  if (!event || event.kind !== 'Event' || typeof event.auditID !== 'string') {
    throw new ClusterError(`${source}: line is not an audit.k8s.io/v1 Event: ${line.slice(0, 120)}`);
  }
  return event as AuditEvent;
}

/** Current end of the log: pass as `fromOffset` to see only events after now. */
export async function auditLogEnd(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}
