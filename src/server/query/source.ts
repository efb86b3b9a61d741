/**
 * Where audit events come from. A file today (`--file`, or a path the server is configured with);
 * a cluster's log when the cluster engine lands, behind the same interface, so the CLI, the
 * endpoint and the lab grader never care which.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { scanFile, type LineConsumer, type ScanOptions, type ScanReport } from './scan.ts';

export interface AuditLogSource {
  /** Short id used by the HTTP endpoint (e.g. "file", or a cluster name). */
  readonly id: string;
  /** What a person should read, e.g. the file path. */
  readonly description: string;
  /** Streams every line of the log through the consumers. */
  scan(consumers: LineConsumer[], options?: ScanOptions): Promise<ScanReport>;
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

  scan(consumers: LineConsumer[], options?: ScanOptions): Promise<ScanReport> {
    return scanFile(this.file, consumers, options);
  }
}
