/**
 * Where audit events come from. A file today (`--file`, or a path the server is configured with);
 * a cluster's log when the cluster engine lands, behind the same interface, so the CLI, the
 * endpoint and the lab grader never care which.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { scanFileInParts, type PartsOptions, type QueryConsumer } from './parallel-scan.ts';
import { scanFile, type LineConsumer, type ScanOptions, type ScanReport } from './scan.ts';

export interface AuditLogSource {
  /** Short id used by the HTTP endpoint (e.g. "file", or a cluster name). */
  readonly id: string;
  /** What a person should read, e.g. the file path. */
  readonly description: string;
  /** Streams every line of the log through the consumers. */
  scan(consumers: LineConsumer[], options?: ScanOptions): Promise<ScanReport>;
  /**
   * Runs whole queries over the log in several threads, when that is worth it and gives the
   * same results (see parallel-scan.ts); undefined means "scan sequentially".
   */
  scanInParts?(consumers: QueryConsumer[], options?: PartsOptions): Promise<ScanReport | undefined>;
}

export class FileAuditLogSource implements AuditLogSource {
  readonly id: string;
  readonly description: string;
  /** Absolute path of the log (query workers open it by path). */
  readonly file: string;
  /**
   * Events sent with these user agents are left out of every query on this source: irlab's own
   * instrumentation on a learner's cluster (the audit-policy check's probes and the token requests
   * they need) is not part of the incident they investigate.
   */
  readonly hideUserAgents: readonly string[];

  constructor(file: string, id = 'file', hideUserAgents: readonly string[] = []) {
    this.file = path.resolve(file);
    this.id = id;
    this.description = this.file;
    this.hideUserAgents = hideUserAgents;
  }

  /** A readable error now rather than a stack trace mid-scan. */
  static async open(file: string, id?: string): Promise<FileAuditLogSource> {
    const info = await stat(file).catch(() => undefined);
    if (!info) throw new Error(`no audit log at ${path.resolve(file)}: check the path (the API server writes it where --audit-log-path says)`);
    if (!info.isFile()) throw new Error(`${path.resolve(file)} is not a file`);
    return new FileAuditLogSource(file, id);
  }

  scan(consumers: LineConsumer[], options?: ScanOptions & { chunkSize?: number }): Promise<ScanReport> {
    return scanFile(this.file, consumers, options);
  }

  async scanInParts(consumers: QueryConsumer[], options?: PartsOptions): Promise<ScanReport | undefined> {
    // Hidden user agents are filtered by the caller's consumers, which see every event; the
    // parts would have to know them too, so such a source scans sequentially.
    if (this.hideUserAgents.length) return undefined;
    const { size } = await stat(this.file);
    return scanFileInParts(this.file, size, consumers, options);
  }
}
