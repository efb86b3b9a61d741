/**
 * All terminal sessions of this server: creates one per learner and slot (reusing a live one;
 * slot 2 is the lab page's second terminal, so a learner has at most two live shells), finds them
 * for the WebSocket, and reaps them. A session whose browser went away lives on for `graceMs`
 * (a reload or a flaky network must not kill the shell); every session ends after `ttlMs`.
 *
 * The caller decides where clusters come from: `leaseCluster(owner)` returns the learner's
 * cluster (or null for a shell without one). The manager writes its kubeconfig to a file of the
 * session's own under the data dir (bound into the sandbox, never written into the workspace,
 * whose paths the learner controls), and removes it and releases the lease when the session ends.
 *
 * Every shell and workspace mount is recorded on disk (shell-records.ts) before it exists; at start
 * (`reapOrphans`, run by `mountWorkspaces`) the manager ends what a server of this data dir that
 * died without stopping left behind (orphan-reaper.ts).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { clampCols, clampRows } from '../../lib/terminal-protocol.ts';
import { apiServerOf, startApiRelay, type ApiRelay } from './api-relay.ts';
import { AsciicastRecorder } from './asciicast.ts';
import { flattenKubeconfig, writeSessionKubeconfig } from './kubeconfig.ts';
import { reapOrphans, type OrphanReport } from './orphan-reaper.ts';
import { DEFAULT_FLOW_LIMITS, type FlowLimits } from './output-log.ts';
import { buildSandboxCommand, SANDBOX_HOSTNAME, type SandboxCommand } from './sandbox.ts';
import { specFor, type SandboxHost } from './sandbox-host.ts';
import { TerminalSession, type ClusterLease, type PtyProcess } from './session.ts';
import { startShellBudget, type ShellBudget } from './shell-budget.ts';
import { ShellRecords } from './shell-records.ts';
import { processStartTime } from './uid-claims.ts';
import { unmountWorkspace, WorkspaceVolumes } from './workspace-volume.ts';

export type SpawnPty = (command: SandboxCommand, size: { cols: number; rows: number }) => PtyProcess;

export interface TerminalManagerOptions {
  /** irlab's data dir; workspaces/, recordings/, sockets/ and kubeconfigs/ live under it. */
  dataDir: string;
  host: SandboxHost;
  spawnPty: SpawnPty;
  leaseCluster: (owner: string) => Promise<ClusterLease | null>;
  now?: () => number;
  /** How long a session without a browser survives. */
  graceMs?: number;
  /** How long any session lives. */
  ttlMs?: number;
  flow?: FlowLimits;
  /** Cap of one recording file. */
  maxRecordingBytes?: number;
  newId?: () => string;
  /**
   * The cluster this learner's shell should use now, if the caller knows (a lab run). A live
   * session on another cluster (the lab was reset) is ended and a new one started.
   */
  wantedCluster?: (owner: string) => Promise<string | undefined>;
}

/** A session started for someone else than the default (a drill participant). */
export interface OpenOptions {
  /** The cluster for this session instead of `leaseCluster(owner)` (the drill's cluster). */
  lease?: () => Promise<ClusterLease | null>;
  /** The learner allowed to attach; default the owner. */
  principal?: string;
  /** Sessions of one group may watch each other read-only (`drill:<id>`). */
  group?: string;
  /** Which of the learner's shells (default 1); slot 2 shares slot 1's uid and workspace. */
  slot?: TerminalSlot;
}

/** A learner has at most this many live shells: the lab page's main terminal and a second one. */
export const TERMINAL_SLOTS = [1, 2] as const;
export type TerminalSlot = (typeof TERMINAL_SLOTS)[number];
export const isTerminalSlot = (value: unknown): value is TerminalSlot => TERMINAL_SLOTS.includes(value as TerminalSlot);

/** A shell this learner cannot have now, said in words (the route answers 409). */
export class SlotRefusedError extends Error {}

/** Learner ids become directory names: keep them boring. */
export const OWNER_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export class TerminalManager {
  private readonly sessions = new Map<string, TerminalSession>();
  private readonly starting = new Map<string, Promise<TerminalSession>>();
  /** Each live session's budget, so a second shell of the learner can share its uid. */
  private readonly budgets = new Map<string, ShellBudget>();
  /** The last start of each learner: a learner's shells start one after the other (the second shares the first's uid). */
  private readonly creating = new Map<string, Promise<unknown>>();
  private readonly options: Required<Omit<TerminalManagerOptions, 'wantedCluster'>> & Pick<TerminalManagerOptions, 'wantedCluster'>;
  private reaper: NodeJS.Timeout | null = null;
  /** Size-limited workspace filesystems (null: plain directories, see shell-budget.ts). */
  private readonly volumes: WorkspaceVolumes | null;
  /** This server's shells and mounts, on disk, for the reaper of a crash. */
  private readonly records: ShellRecords;
  private reaping: Promise<OrphanReport> | null = null;

  constructor(options: TerminalManagerOptions) {
    this.options = {
      now: Date.now,
      graceMs: 10 * 60_000,
      ttlMs: 4 * 60 * 60_000,
      flow: DEFAULT_FLOW_LIMITS,
      maxRecordingBytes: 32 * 1024 * 1024,
      newId: () => randomBytes(16).toString('base64url'),
      ...options,
    };
    for (const dir of ['workspaces', 'recordings', 'sockets', 'kubeconfigs']) mkdirSync(path.join(this.options.dataDir, dir), { recursive: true, mode: 0o700 });
    this.records = new ShellRecords(path.join(this.options.dataDir, 'terminal-owners'));
    const bytes = this.options.host.budgets.workspaceBytes;
    this.volumes = bytes ? new WorkspaceVolumes(path.join(this.options.dataDir, 'workspace-images'), bytes, this.records) : null;
  }

  /**
   * Ends the shells, cgroups, uid claims and workspace mounts that servers of this data dir that
   * are gone left behind (once per manager; sessions opened meanwhile wait for it).
   */
  reapOrphans(): Promise<OrphanReport> {
    const started = performance.now();
    this.reaping ??= reapOrphans({
      recordsDir: this.records.dir,
      dataDir: this.options.dataDir,
      cgroups: this.options.host.budgets.cgroups,
      unmount: unmountWorkspace,
    }).then((report) => {
      if (report.sessions || report.mounts.length) {
        console.log(`irlab terminal: ended ${report.sessions} shell${report.sessions === 1 ? '' : 's'} left by a server that is gone (${report.processes} processes, ${report.claims} uid claims freed, ${report.mounts.length} workspace mounts undone, in ${Math.round(performance.now() - started)} ms)`);
      }
      return report;
    });
    return this.reaping;
  }

  /**
   * Reaps what a crashed server left (`reapOrphans`), then mounts every learner's workspace
   * filesystem (at server start: lab checks read workspaces before a shell opens). Returns problems.
   */
  async mountWorkspaces(signal?: AbortSignal): Promise<string[]> {
    const { problems } = await this.reapOrphans();
    return [...problems, ...((await this.volumes?.mountAll((owner) => this.workspaceDir(owner), signal)) ?? [])];
  }

  get size(): number {
    return this.sessions.size;
  }
  list(): TerminalSession[] {
    return [...this.sessions.values()];
  }
  get(id: string): TerminalSession | undefined {
    return this.sessions.get(id);
  }

  workspaceDir(owner: string): string {
    return path.join(this.options.dataDir, 'workspaces', owner);
  }
  recordingPath(sessionId: string): string {
    return path.join(this.options.dataDir, 'recordings', `${sessionId}.cast`);
  }

  /** The learner's live session in this slot, or a new one. Concurrent calls for one slot share one start. */
  async open(owner: string, size = { cols: 80, rows: 24 }, extra: OpenOptions = {}): Promise<TerminalSession> {
    if (!OWNER_PATTERN.test(owner)) throw new Error(`learner id ${JSON.stringify(owner)} must match ${OWNER_PATTERN}`);
    const slot = extra.slot ?? 1;
    if (!isTerminalSlot(slot)) throw new Error(`terminal slot ${JSON.stringify(slot)} must be one of ${TERMINAL_SLOTS.join(', ')}`);
    const live = this.liveSession(owner, slot);
    const wanted = extra.lease ? undefined : await this.options.wantedCluster?.(owner);
    // Without a lab, a shell gets a cluster of its own: a second one would not share the first's.
    if (slot !== 1 && !extra.lease && this.options.wantedCluster && !wanted) throw new SlotRefusedError('A second terminal works on a running lab\'s cluster: start the lab first.');
    if (live && wanted && live.lease?.name !== wanted) {
      // Only this slot's shell is replaced here; the other slot's is when its terminal reconnects.
      await this.close(live.id, 'Your lab was reset: this shell belonged to the old cluster. A new one is starting.');
    } else if (live) return live;
    const key = `${owner}#${slot}`;
    const pending = this.starting.get(key);
    if (pending) return pending;
    // A shell a crashed server left in this workspace (or on a uid) is ended before a new one starts,
    // and the learner's other start (if any) finishes first: its uid is the one to share.
    const before = Promise.all([this.reaping, this.creating.get(owner)]).catch(() => undefined);
    const start = before.then(() => this.create(owner, size, { ...extra, slot })).finally(() => this.starting.delete(key));
    this.starting.set(key, start);
    const settled = start.catch(() => undefined);
    this.creating.set(owner, settled);
    void settled.then(() => this.creating.get(owner) === settled && this.creating.delete(owner));
    return start;
  }

  /** The learner's live (not exited, not expired) session in a slot. */
  liveSession(owner: string, slot: TerminalSlot = 1): TerminalSession | undefined {
    return this.list().find((s) => s.owner === owner && s.slot === slot && !s.exit && this.options.now() < s.expiresAt);
  }

  private async create(owner: string, size: { cols: number; rows: number }, extra: OpenOptions & { slot: TerminalSlot }): Promise<TerminalSession> {
    const { host, now } = this.options;
    const workspace = this.workspaceDir(owner);
    const id = this.options.newId();
    // The learner's other live shell, whose uid this one shares (one owner for the workspace's files).
    const sibling = this.list().find((s) => s.owner === owner && s.slot !== extra.slot && this.budgets.has(s.id));
    // Its uid, cgroup and workspace filesystem. The workspace itself is the server's path (the
    // learner cannot replace it); nothing inside it is written or followed.
    const budget = await startShellBudget({ budgets: host.budgets, hostIdentity: host.identity, volumes: this.volumes, owner, sessionId: id, workspace, sessionsDir: path.join(this.options.dataDir, 'sandbox', 'sessions'), ...(sibling ? { sibling: this.budgets.get(sibling.id)! } : {}) });
    this.budgets.set(id, budget);
    const identity = budget.identity;
    const uids = host.budgets.uids;
    const record = { session: id, owner, workspace, uid: uids && identity.mode === 'setpriv' ? { uid: identity.uid, gid: identity.gid, claimsDir: uids.claimsDir } : null, cgroup: budget.cgroup?.directories ?? null };
    const release = async () => {
      this.budgets.delete(id);
      // Kept while a process survived: the next start tries again.
      if (await budget.release()) this.records.removeSession(id);
    };
    let leased: ClusterLease | null;
    try {
      this.records.saveSession({ ...record, shell: null });
      leased = await (extra.lease ? extra.lease() : this.options.leaseCluster(owner));
    } catch (error) {
      await release();
      throw error;
    }
    let relay: ApiRelay | null = null;
    let kubeconfigFile: string | null = null;
    const removeKubeconfig = () => (kubeconfigFile ? rm(kubeconfigFile, { force: true }) : Promise.resolve());
    const lease = leased && { ...leased, release: async () => (relay?.close(), await removeKubeconfig(), leased.release()) };
    try {
      let apiRelay = null;
      if (lease) {
        const kubeconfig = await flattenKubeconfig(lease.kubeconfigPath);
        kubeconfigFile = path.join(this.options.dataDir, 'kubeconfigs', `${id}.yaml`);
        await writeSessionKubeconfig(kubeconfigFile, kubeconfig, identity.mode === 'setpriv' ? identity : null);
        if (host.network === 'isolated') {
          const target = apiServerOf(kubeconfig);
          if (!/^(127\.\d+\.\d+\.\d+|localhost|::1)$/.test(target.host)) {
            throw new Error(`the cluster's API server ${target.host}:${target.port} is not on loopback, which an isolated terminal cannot reach; set IRLAB_TERMINAL_NETWORK=host to share the host's network`);
          }
          const owner = identity.mode === 'setpriv' ? identity : null;
          relay = await startApiRelay(path.join(this.options.dataDir, 'sockets', `${id}.sock`), target, owner);
          apiRelay = { socketPath: relay.socketPath, port: target.port, host: target.host === 'localhost' ? '127.0.0.1' : target.host };
        }
      }
      if (identity.mode === 'setpriv') chownSync(workspace, identity.uid, identity.gid);
      chmodSync(workspace, 0o700);
      const cols = clampCols(size.cols);
      const rows = clampRows(size.rows);
      const command = buildSandboxCommand(specFor(host, workspace, kubeconfigFile, apiRelay, { identity, etcDir: budget.etcDir, cgroupProcs: budget.cgroup?.procsFiles ?? [] }));
      const pty = this.options.spawnPty(command, { cols, rows });
      const started = processStartTime(pty.pid);
      if (started) this.records.saveSession({ ...record, shell: { pid: pty.pid, start: started } });
      const recorder = new AsciicastRecorder({
        path: this.recordingPath(id),
        now,
        maxBytes: this.options.maxRecordingBytes,
        header: {
          version: 2,
          width: cols,
          height: rows,
          timestamp: Math.floor(now() / 1000),
          title: `irlab terminal ${id} (learner ${owner}${lease ? `, cluster ${lease.name}` : ''})`,
          env: { TERM: 'xterm-256color', SHELL: '/bin/bash', HOSTNAME: SANDBOX_HOSTNAME },
        },
      });
      const session = new TerminalSession({ id, owner, slot: extra.slot, principal: extra.principal ?? owner, group: extra.group ?? null, pty, lease, recorder, flow: this.options.flow, now, expiresAt: now() + this.options.ttlMs, cols, rows, dispose: release });
      this.sessions.set(id, session);
      return session;
    } catch (error) {
      await release();
      await lease?.release();
      throw error;
    }
  }

  /** Ends sessions past their TTL, detached past the grace period, or whose shell exited and whose tab is gone. */
  async reap(): Promise<string[]> {
    const now = this.options.now();
    const ended: string[] = [];
    for (const session of this.list()) {
      let reason: string | null = null;
      if (now >= session.expiresAt) reason = 'This terminal session reached its time limit and was closed.';
      else if (session.detachedSince !== null && now - session.detachedSince >= this.options.graceMs) reason = 'This terminal session was closed after its tab stayed away too long.';
      else if (session.exit && !session.attached) reason = 'The shell exited.';
      if (!reason) continue;
      this.sessions.delete(session.id);
      ended.push(session.id);
      await session.end(reason);
    }
    return ended;
  }

  /** Ends one session now (the shell exited and the learner asked for a new one, or a test). */
  async close(id: string, reason = 'This terminal session was closed.'): Promise<void> {
    const session = this.sessions.get(id);
    if (!session) return;
    this.sessions.delete(id);
    await session.end(reason);
  }

  startReaper(intervalMs = 30_000): void {
    this.reaper ??= setInterval(() => void this.reap(), intervalMs);
    this.reaper.unref();
  }

  async shutdown(): Promise<void> {
    if (this.reaper) clearInterval(this.reaper);
    this.reaper = null;
    await Promise.all(this.list().map((s) => this.close(s.id, 'The irlab server is shutting down.')));
    await this.volumes?.unmountAll();
    this.records.close();
  }
}
