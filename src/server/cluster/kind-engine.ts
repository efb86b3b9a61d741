// The container engine a kind cluster runs on, and the node image it boots.
//
// An engine that already answers is used as it is and never stopped: the one DOCKER_HOST (or the
// default socket) names, else Podman. Otherwise irlab runs its own: Debian's dockerd started by
// engine/kind/dockerd.sh with a data root, exec root and socket of its own and no host iptables
// rules. Ours exists only to serve kind clusters, so the provider stops it again when the last
// of them is deleted; that rule needs no memory of who started it, across processes or restarts.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { cacheRoot, engineDir } from './binaries.ts';
import { missingEngineMessage, probeContainerEngines, type EngineName, type EngineProbe } from './container-engine.ts';
import type { Runner } from './runtime.ts';
import { ClusterError } from './types.ts';

/** dockerd.sh's socket: ours whenever it answers. */
export const OUR_DOCKER_HOST = 'unix:///run/irlab-docker.sock';

export interface KindEngine {
  engine: EngineName;
  /** The environment every `kind`/`docker` command of this cluster runs with (DOCKER_HOST set for ours). */
  env: NodeJS.ProcessEnv;
  /** True when it is irlab's own dockerd (engine/kind/dockerd.sh). */
  ours: boolean;
}

const ourEnv = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({ ...env, DOCKER_HOST: OUR_DOCKER_HOST });

/** Whether irlab's own dockerd answers on its socket. */
export async function ourEngineAnswers(runner: Runner, env: NodeJS.ProcessEnv, timeoutMs = 5_000): Promise<boolean> {
  const r = await runner.run('docker', ['info', '--format', '{{.ServerVersion}}'], { env: ourEnv(env), timeoutMs });
  return r.code === 0 && r.stdout.trim() !== '';
}

/** An engine that answers now (someone else's first, then ours); undefined with every probe when none does. */
export async function answeringEngine(runner: Runner, env: NodeJS.ProcessEnv, timeoutMs = 5_000): Promise<{ found?: KindEngine; probes: EngineProbe[] }> {
  const probes = await probeContainerEngines(runner, timeoutMs, env);
  const other = probes.find((p) => p.ok);
  if (other) return { found: { engine: other.engine, env, ours: false }, probes };
  if (env['DOCKER_HOST'] !== OUR_DOCKER_HOST && (await ourEngineAnswers(runner, env, timeoutMs))) {
    return { found: { engine: 'docker', env: ourEnv(env), ours: true }, probes };
  }
  return { probes };
}

/**
 * The engine for a new cluster: one that answers, else ours, started now (a few seconds; it needs
 * root and Debian's docker.io, which `engine/kind/build.sh` installs with the node image).
 */
export async function ensureKindEngine(runner: Runner, env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<KindEngine> {
  const { found, probes } = await answeringEngine(runner, env);
  if (found) return found;
  // Ours is started only where `irlab engine build --kind` ran: it installed dockerd and built the
  // node image ours holds. Elsewhere a daemon appearing on its own would be a surprise.
  if (!(await builtNodeImage(env))) {
    throw new ClusterError(missingEngineMessage(probes), 'Or build irlab\'s own engine and node image with `irlab engine build --kind` (Debian packages, no registry).');
  }
  const script = join(engineDir(env), 'kind', 'dockerd.sh');
  const r = await runner.run('bash', [script, 'start'], { env, timeoutMs });
  if (r.code !== 0) {
    const said = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-6).join('\n');
    throw new ClusterError(
      `${missingEngineMessage(probes)}\nirlab's own engine did not start either (\`${script} start\` exited ${r.code}):\n${said}`,
      'Run `irlab engine build --kind` (it installs Debian\'s docker.io and builds the node image), then try again.',
    );
  }
  return { engine: 'docker', env: ourEnv(env), ours: true };
}

/** Stops irlab's own dockerd (never anyone else's engine). */
export async function stopOurEngine(runner: Runner, env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<void> {
  const script = join(engineDir(env), 'kind', 'dockerd.sh');
  const r = await runner.run('bash', [script, 'stop'], { env: { ...env, DOCKER_HOST: '' }, timeoutMs });
  if (r.code !== 0) throw new ClusterError(`\`${script} stop\` exited ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
}

/** Where engine/kind/build.sh records the node image it built (one line). */
export function builtNodeImageFile(env: NodeJS.ProcessEnv): string {
  return join(cacheRoot(env), 'kind', 'node-image.tag');
}

/** The node image engine/kind/build.sh built on this machine, if it did. */
export async function builtNodeImage(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const text = await readFile(builtNodeImageFile(env), 'utf8').catch(() => '');
  const tag = text.trim();
  // The file is ours, but a tag goes on kind's command line: accept only an image reference.
  return /^[a-z0-9][a-z0-9._/-]*:[A-Za-z0-9._-]+$/.test(tag) ? tag : undefined;
}
