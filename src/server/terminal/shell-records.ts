/**
 * What the terminal started, on disk, so that a server killed with SIGKILL (or OOM-killed, or cut
 * off with the power) leaves nothing a later server on the same data dir cannot find and end, as
 * the cluster pool's owner files do for clusters (cluster/pool-state.ts). In
 * `<data>/terminal-owners/`, both kinds naming their server by pid and /proc start time (so a
 * recycled pid is never taken for it):
 * - `session-<id>.json`: one per shell, written before the shell starts and updated with the
 *   shell's pid once it runs: its uid claim, cgroup and workspace. Removed once the session's
 *   processes are gone and its uid is free.
 * - `server-<pid>.json`: the workspace filesystems the server may have mounted (recorded before the
 *   mount). Removed when it stops.
 * orphan-reaper.ts reads them at start.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Controller } from './cgroups.ts';
import { processStartTime } from './uid-claims.ts';

export interface ServerIdentity {
  pid: number;
  /** `/proc/<pid>/stat` start time (clock ticks since boot); null when it could not be read. */
  start: string | null;
}

export function thisServer(): ServerIdentity {
  return { pid: process.pid, start: processStartTime(process.pid) };
}

/** Whether the server that wrote a record still runs (the same process, not a later one with its pid). */
export function serverAlive(server: ServerIdentity): boolean {
  if (server.pid === process.pid) return true;
  const now = processStartTime(server.pid);
  return now !== null && (server.start === null || now === server.start);
}

export interface SessionRecord {
  server: ServerIdentity;
  session: string;
  owner: string;
  workspace: string;
  /** The session's own uid and where its claim is (setpriv mode); null: the server's uid. */
  uid: { uid: number; gid: number; claimsDir: string } | null;
  cgroup: Record<Controller, string> | null;
  /** The PTY's process (the launcher, then bwrap) and its start time; null until it runs. */
  shell: { pid: number; start: string } | null;
}

export interface ServerRecord {
  server: ServerIdentity;
  /** Workspace directories this server mounted (or found mounted and used). */
  mounts: string[];
}

const SESSION_FILE = /^session-([A-Za-z0-9_-]{1,64})\.json$/;
const SERVER_FILE = /^server-(\d+)\.json$/;

/** Temp file and rename: a reader never sees half a record. */
function writeAtomically(file: string, value: unknown): void {
  writeFileSync(`${file}.tmp`, JSON.stringify(value), { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

export class ShellRecords {
  readonly dir: string;
  private readonly server: ServerIdentity;
  private readonly mounts = new Set<string>();

  constructor(dir: string, server: ServerIdentity = thisServer()) {
    this.dir = dir;
    this.server = server;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.saveServer();
  }

  private serverFile(): string {
    return path.join(this.dir, `server-${this.server.pid}.json`);
  }

  private saveServer(): void {
    const record: ServerRecord = { server: this.server, mounts: [...this.mounts] };
    writeAtomically(this.serverFile(), record);
  }

  /** Before mounting `dir` (or on finding it mounted and using it). */
  addMount(dir: string): void {
    if (this.mounts.has(dir)) return;
    this.mounts.add(dir);
    this.saveServer();
  }

  removeMount(dir: string): void {
    if (this.mounts.delete(dir)) this.saveServer();
  }

  saveSession(record: Omit<SessionRecord, 'server'>): void {
    writeAtomically(path.join(this.dir, `session-${record.session}.json`), { server: this.server, ...record });
  }

  removeSession(session: string): void {
    rmSync(path.join(this.dir, `session-${session}.json`), { force: true });
  }

  /** At stop, once every mount is undone. */
  close(): void {
    rmSync(this.serverFile(), { force: true });
  }
}

function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return null; // removed meanwhile, or not ours to read
  }
}

/** Every record in `dir`, each with the file it came from. */
export function readRecords(dir: string): { sessions: Array<SessionRecord & { file: string }>; servers: Array<ServerRecord & { file: string }> } {
  const sessions: Array<SessionRecord & { file: string }> = [];
  const servers: Array<ServerRecord & { file: string }> = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return { sessions, servers };
  }
  for (const name of names) {
    const file = path.join(dir, name);
    const session = SESSION_FILE.exec(name);
    if (session) {
      const record = readJson<SessionRecord>(file);
      if (record?.server && record.session === session[1]) sessions.push({ ...record, file });
    } else if (SERVER_FILE.test(name)) {
      const record = readJson<ServerRecord>(file);
      if (record?.server && Array.isArray(record.mounts)) servers.push({ ...record, file });
    }
  }
  return { sessions, servers };
}
