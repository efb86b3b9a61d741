/**
 * Where a run's cluster comes from: an incident seeded ahead of time (the shelf) or now, and a
 * fresh one when the run's cluster is gone (a restart reaped it, the watchdog gave it up). The
 * run keeps its id through a replacement, so steps done stay done.
 */
import { randomBytes } from 'node:crypto';
import { learnerAccessOf, type ClusterInfo } from '../cluster/types.ts';
import { loadScenario } from '../scenarios/load.ts';
import { seedScenario } from '../scenarios/seed.ts';
import { waitingTimeScale } from '../scenarios/timeline.ts';
import type { SqlStore } from '../store/sql-store.ts';
import type { ClusterSource } from './cluster-source.ts';
import { IncidentShelf, type PreparedIncident } from './incident-shelf.ts';
import { markRecovered, runById, type RunRow } from './lab-runs.ts';
import type { LoadedLab } from './labs.ts';
import { LabError } from './lab-error.ts';

export interface RunIncidentsOptions {
  store: SqlStore;
  root: string;
  clusters: ClusterSource;
  answerKeys: string;
  labOf: (slug: string) => Promise<LoadedLab>;
  now: () => Date;
  /** Aborted when the server shuts down: every seed stops. */
  closing: AbortSignal;
  preparedPerLab?: number;
  scenarioTimeScale?: number;
  waitingTimeScale?: number;
}

export function runIncidents(options: RunIncidentsOptions) {
  const { store, clusters, closing } = options;
  // Seeding waits out minutes of dwell time: a reset stops the learner's own.
  const seedingFor = new Map<string, AbortController>();
  const recovering = new Map<string, Promise<ClusterInfo>>();

  async function seedIncident(lab: LoadedLab, onProgress: (m: string) => void, signal: AbortSignal = closing, timeScale = options.scenarioTimeScale): Promise<PreparedIncident> {
    const { loaded, problems } = await loadScenario(options.root, `scenarios/${lab.lab.scenario}`);
    if (!loaded) throw new LabError(`the lab's scenario is invalid: ${problems[0]?.message ?? 'unknown problem'}`, 500);
    const cluster = await clusters.acquire(onProgress);
    try {
      const seed = randomBytes(8).toString('hex');
      onProgress('seeding the incident into your cluster');
      await seedScenario(cluster, loaded, { seed, answerKeys: options.answerKeys, signal, ...(timeScale !== undefined ? { timeScale } : {}) });
      const learnerAccess = learnerAccessOf(clusters.provider);
      if (learnerAccess) {
        onProgress('giving you your own credential on the cluster');
        // On the same object the cluster source hands out again (find), so every later lease sees it.
        cluster.learnerKubeconfigPath = await learnerAccess(cluster.name, signal);
      }
      return { cluster, seed };
    } catch (error) {
      await clusters.release(cluster.name);
      throw error;
    }
  }

  const shelf = new IncidentShelf({
    perLab: options.preparedPerLab ?? 0,
    prepare: async (slug) => {
      const started = Date.now();
      const incident = await seedIncident(await options.labOf(slug), () => {});
      console.log(`irlab: lab ${slug}: incident seeded ahead of time on ${incident.cluster.name} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return incident;
    },
    discard: (incident) => clusters.release(incident.cluster.name),
    // A seed cut short by shutdown is no failure worth a log line.
    onError: (slug, error) => closing.aborted || console.error(`irlab: preparing an incident for lab ${slug} failed: ${error instanceof Error ? error.message : String(error)}`),
  });

  /** An incident of `lab` for this learner: one seeded ahead of time if any, else seeded now. */
  async function incidentFor(learnerId: string, lab: LoadedLab, onProgress: (m: string) => void): Promise<PreparedIncident> {
    const shelved = shelf.take(lab.slug);
    let incident: PreparedIncident | undefined;
    if (shelved) {
      onProgress('opening an incident seeded for you ahead of time');
      incident = await shelved.catch(() => undefined);
    }
    if (!incident) {
      const mine = new AbortController();
      const id = `${learnerId}\u0000${lab.slug}`;
      seedingFor.set(id, mine);
      try {
        // The learner is waiting: the incident unfolds at the waiting scale (seconds, not minutes).
        const waiting = Math.min(options.waitingTimeScale ?? waitingTimeScale(), options.scenarioTimeScale ?? Infinity);
        incident = await seedIncident(lab, onProgress, AbortSignal.any([closing, mine.signal]), waiting);
      } finally {
        if (seedingFor.get(id) === mine) seedingFor.delete(id);
      }
    }
    return incident;
  }

  async function replaceCluster(run: RunRow): Promise<ClusterInfo> {
    const lost = run.cluster;
    const started = Date.now();
    let incident: PreparedIncident;
    try {
      incident = await incidentFor(run.learner_id, await options.labOf(run.lab), () => {});
    } catch (error) {
      throw new LabError(`your lab cluster ${lost} is gone and a new one could not be made: ${error instanceof Error ? error.message : String(error)}; try again in a minute, or press Reset`, 503);
    }
    // Still on disk: an earlier server process's (this one never handed it out). Gone: deleted,
    // reaped after a crash, or given up by the watchdog as beyond repair.
    const leftBehind = (await clusters.provider.list().catch(() => [])).some((c) => c.name === lost);
    const reason = leftBehind ? 'the server restarted' : 'it stopped working or the server restarted';
    // Only while the run still points at the lost cluster: a Reset meanwhile ended it.
    const fresh = { cluster: incident.cluster.name, provider: incident.cluster.provider, seed: incident.seed };
    if (!(await markRecovered(store, run.id, lost, fresh, options.now().toISOString(), reason))) {
      await clusters.release(incident.cluster.name);
      throw new LabError('this lab run ended while its cluster was being replaced; start the lab again', 409);
    }
    // Whatever is left of the lost cluster (a crashed server's, still running) goes.
    await clusters.release(lost).catch(() => undefined);
    console.log(`irlab: lab ${run.lab}: cluster ${lost} was gone; replaced by ${incident.cluster.name} with a new incident in ${((Date.now() - started) / 1000).toFixed(1)} s, progress kept`);
    return incident.cluster;
  }

  return {
    shelf,
    incidentFor,
    /** Stops the seeding a learner is waiting for (their Reset). */
    stopSeeding: (learnerId: string, slug: string, reason: Error) => seedingFor.get(`${learnerId}\u0000${slug}`)?.abort(reason),
    /**
     * The run's cluster. One this process no longer holds is replaced by a freshly seeded one:
     * the seed and answer key are new, so open steps are graded against the new incident. `run`
     * is updated in place; concurrent lookups in this process share one replacement.
     */
    async clusterOf(run: RunRow): Promise<ClusterInfo> {
      const found = await clusters.find(run.cluster);
      if (found) return found;
      let pending = recovering.get(run.id);
      if (!pending) {
        pending = replaceCluster(run).finally(() => recovering.delete(run.id));
        recovering.set(run.id, pending);
      }
      const cluster = await pending;
      const stored = await runById(store, run.id);
      if (stored) Object.assign(run, stored);
      return cluster;
    },
  };
}

export type RunIncidents = ReturnType<typeof runIncidents>;
