// Who owns which clusters, on disk, so that a crash (kill -9, OOM, power cut)
// of the owning process never leaves clusters running forever. An owner
// writes `<stateDir>/owner-<pid>[-<role>].json` before it creates a cluster
// and keeps it current (one file per role: the warm pool, the terminal's own
// clusters); the next server to start reaps every cluster listed by an owner
// that is no longer alive (processes, then directories; ports close with their
// processes). Embedded clusters are reaped from /proc and the work dir; a
// cluster of another provider (kind) through that provider's delete.

import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { checkClusterName } from './embedded-provider.ts';
import type { ProviderName } from './types.ts';
import { clusterProcesses, processStartTicks } from './host-census.ts';
import { clusterPaths, readPids } from './kwokctl.ts';
import { processState, systemClock, waitUntil, type Clock } from './runtime.ts';

export interface OwnerState {
  pid: number;
  /** /proc start time of the owner, so a reused pid is not mistaken for it. */
  startTicks: number | null;
  /** KWOK_WORKDIR of the owner's provider. */
  workDir: string;
  /** Every embedded cluster the owner may have started, including one still being created. */
  clusters: string[];
  /** Clusters of other providers (kind), reaped through that provider. Absent in older files. */
  others?: Array<{ provider: ProviderName; name: string }>;
}

/** Deletes a cluster of a provider other than embedded (kind) when its owner died. */
export type DeleteOther = (provider: ProviderName, name: string) => Promise<void>;

/** Which owner files reapDeadOwners reads: the pool's `owner-<pid>.json` and roles' `owner-<pid>-<role>.json`. */
const OWNER_FILE = /^owner-\d+(-[a-z]+)?\.json$/;

export class OwnerFile {
  readonly path: string;
  private state: OwnerState;
  private writing: Promise<void> = Promise.resolve();

  /** `role` names a second owner in the same process (e.g. `terminal`); none for the warm pool. */
  constructor(stateDir: string, workDir: string, pid = process.pid, role?: string) {
    if (role !== undefined && !/^[a-z]+$/.test(role)) throw new Error(`owner role ${JSON.stringify(role)} must be lowercase letters`);
    mkdirSync(stateDir, { recursive: true });
    this.path = join(stateDir, role ? `owner-${pid}-${role}.json` : `owner-${pid}.json`);
    this.state = { pid, startTicks: processStartTicks(pid), workDir, clusters: [] };
  }

  /** Serialized atomic writes (temp file + rename): a reader never sees half a file. */
  private save(): Promise<void> {
    const snapshot = JSON.stringify(this.state, null, 2);
    // One failed write (its directory removed under us) must not fail every write after it.
    const next = this.writing.catch(() => undefined).then(async () => {
      await writeFile(`${this.path}.tmp`, snapshot);
      await rename(`${this.path}.tmp`, this.path);
    });
    this.writing = next;
    return next;
  }

  /** Records a cluster before it is created; `provider` other than embedded goes to `others`. */
  add(name: string, provider: ProviderName = 'embedded'): Promise<void> {
    if (provider === 'embedded') {
      if (!this.state.clusters.includes(name)) this.state.clusters.push(name);
    } else {
      const others = (this.state.others ??= []);
      if (!others.some((o) => o.provider === provider && o.name === name)) others.push({ provider, name });
    }
    return this.save();
  }

  remove(name: string, provider: ProviderName = 'embedded'): Promise<void> {
    if (provider === 'embedded') this.state.clusters = this.state.clusters.filter((n) => n !== name);
    else this.state.others = (this.state.others ?? []).filter((o) => !(o.provider === provider && o.name === name));
    return this.save();
  }

  async close(): Promise<void> {
    await this.writing.catch(() => undefined);
    await rm(this.path, { force: true });
  }
}

function ownerAlive(state: OwnerState): boolean {
  if (state.pid === process.pid) return true;
  if (processState(state.pid) !== 'running') return false;
  return state.startTicks === null || processStartTicks(state.pid) === state.startTicks;
}

/**
 * Kills every process of a cluster (a kwokctl still creating it first, then
 * the components and their sandboxes) until none is left, then removes its
 * directory. Safe on a cluster that is half created or already gone.
 */
export async function reapCluster(workDir: string, name: string, clock: Clock = systemClock): Promise<number> {
  checkClusterName(name); // the name becomes a path to remove
  const paths = clusterPaths(workDir, name);
  let killed = 0;
  await waitUntil(
    async () => {
      const victims = new Set(clusterProcesses(paths.dir, name, workDir).map((p) => p.pid));
      for (const { pid } of await readPids(paths.pidsDir)) if (processState(pid) === 'running') victims.add(pid);
      for (const pid of victims) {
        try {
          process.kill(pid, 'SIGKILL');
          killed++;
        } catch {
          // Already gone.
        }
      }
      return victims.size === 0;
    },
    { timeoutMs: 15_000, intervalMs: 100, clock, what: `the processes of cluster ${name} to exit` },
  );
  await rm(paths.dir, { recursive: true, force: true });
  await rm(paths.inputDir, { recursive: true, force: true });
  return killed;
}

export interface ReapReport {
  owners: number;
  clusters: string[];
  processes: number;
}

/**
 * Reaps the clusters of every dead owner found in `stateDir`. Clusters of other providers go
 * through `deleteOther`; without one (or when it fails) their owner file stays for the next start.
 */
export async function reapDeadOwners(stateDir: string, clock: Clock = systemClock, deleteOther?: DeleteOther): Promise<ReapReport> {
  const report: ReapReport = { owners: 0, clusters: [], processes: 0 };
  let files: string[];
  try {
    files = (await readdir(stateDir)).filter((f) => OWNER_FILE.test(f));
  } catch {
    return report;
  }
  for (const file of files) {
    const path = join(stateDir, file);
    let state: OwnerState;
    try {
      state = JSON.parse(await readFile(path, 'utf8')) as OwnerState;
    } catch {
      continue; // Being written right now by a live owner (rename is atomic, so this is rare).
    }
    if (ownerAlive(state)) continue;
    report.owners++;
    for (const name of state.clusters) {
      report.processes += await reapCluster(state.workDir, name, clock);
      report.clusters.push(name);
    }
    let leftOthers = false;
    for (const { provider, name } of state.others ?? []) {
      try {
        if (!deleteOther) throw new Error('no way to delete it here');
        await deleteOther(provider, name);
        report.clusters.push(name);
      } catch {
        leftOthers = true; // Kept on disk: the next start tries again.
      }
    }
    if (!leftOthers) await rm(path, { force: true });
  }
  return report;
}
