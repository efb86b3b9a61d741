/**
 * A real kind cluster with a scenario seeded into it, for the kind tests: its own state directory
 * (so nothing is shared with another test or the developer's clusters), a workspace, the answer
 * key, how long seeding took, and `remove()` for afterAll.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { KindProvider } from '../../src/server/cluster/kind-provider.ts';
import type { ClusterInfo } from '../../src/server/cluster/types.ts';
import { readAnswerKey, type AnswerKey } from '../../src/server/scenarios/answer-key.ts';
import { loadScenario } from '../../src/server/scenarios/load.ts';
import { seedScenario } from '../../src/server/scenarios/seed.ts';
import { TEST_TIME_SCALE } from '../../src/server/scenarios/timeline.ts';

export interface SeededKind {
  name: string;
  stateDir: string;
  workspace: string;
  provider: KindProvider;
  info: ClusterInfo;
  key: AnswerKey;
  seedSeconds: number;
  remove(): Promise<void>;
}

/** `prefix` names the cluster (`<prefix>-<6 hex>`); `scenario` is a directory under scenarios/. */
export async function seededKindCluster(prefix: string, scenario: string, seed: string): Promise<SeededKind> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  const stateDir = await mkdtemp(join(tmpdir(), `irlab-${prefix}-`));
  const workspace = join(stateDir, 'workspace');
  await mkdir(workspace, { recursive: true });
  const provider = new KindProvider({ stateDir });
  const remove = async () => {
    await provider.delete(name).catch(() => undefined);
    await rm(stateDir, { recursive: true, force: true });
  };
  try {
    const info = await provider.create({ name, timeoutMs: 300_000 });
    const { loaded, problems } = await loadScenario(process.cwd(), `scenarios/${scenario}`);
    if (!loaded) throw new Error(problems.map((p) => p.message).join('; '));
    const started = Date.now();
    await seedScenario(info, loaded, { seed, answerKeys: join(stateDir, 'keys'), timeScale: TEST_TIME_SCALE });
    const seedSeconds = (Date.now() - started) / 1000;
    return { name, stateDir, workspace, provider, info, key: await readAnswerKey(join(stateDir, 'keys'), name), seedSeconds, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}
