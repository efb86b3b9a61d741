/**
 * The server's one drill service. serve.ts and Astro's bundled endpoints each load their own
 * copy of this module, but live drills need one scheduler and one set of WebSocket listeners, so
 * the service lives on globalThis. Env: IRLAB_DRILL_SCORE_SECONDS (how often the scoreboard's
 * checks run, default 10), IRLAB_DRILL_MAX_LIVE (drills not ended at once, default 10).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { contentRoot, defaultClusterSource } from '../lab/instance.ts';
import { validateProjectLabs } from '../lab/labs.ts';
import { answerKeyDir } from '../scenarios/answer-key.ts';
import { dataDir, getStore } from '../store/index.ts';
import { validateDrills, type LoadedDrill } from './load.ts';
import { liveRuntime } from './runtime.ts';
import { drillService, type DrillService } from './service.ts';

const KEY = Symbol.for('irlab.drillService');
const slot = globalThis as { [KEY]?: DrillService };

export async function loadDrills(root: string): Promise<LoadedDrill[]> {
  const { labs, scenarioReport } = await validateProjectLabs(root);
  return (await validateDrills(root, { scenarios: scenarioReport.scenarios, labs })).drills;
}

export function maxLiveDrills(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.IRLAB_DRILL_MAX_LIVE ?? 10);
  return Number.isInteger(value) && value > 0 ? value : 10;
}

/** The process's drill service; the first call starts its scheduler and re-arms drills from the database. */
export function getDrillService(): DrillService {
  if (slot[KEY]) return slot[KEY];
  const stateDir = path.join(dataDir(), 'drills');
  const emptyWorkspace = path.join(stateDir, 'empty-workspace');
  mkdirSync(emptyWorkspace, { recursive: true, mode: 0o700 });
  let drills: Promise<LoadedDrill[]> | undefined;
  const service = drillService({
    store: getStore(),
    drills: () => (drills ??= loadDrills(contentRoot())),
    runtime: liveRuntime({ clusters: defaultClusterSource(), answerKeys: answerKeyDir(), stateDir, emptyWorkspace }),
    maxLive: maxLiveDrills(),
  });
  slot[KEY] = service;
  const scoreMs = Math.max(2, Number(process.env.IRLAB_DRILL_SCORE_SECONDS ?? 10)) * 1000;
  let scoring = false;
  setInterval(() => void service.tick(), 1000).unref();
  setInterval(() => {
    if (scoring) return;
    scoring = true;
    void service.score().finally(() => (scoring = false));
  }, scoreMs).unref();
  void service.resume().catch((error: unknown) => console.error('irlab drills: resuming after start failed:', error));
  return service;
}
