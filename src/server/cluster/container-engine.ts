// Whether a Docker or Podman *engine* answers (not merely whether a client
// binary is installed: a docker CLI without a daemon is common, and kind
// needs the daemon).

import type { Runner } from './runtime.ts';

export type EngineName = 'docker' | 'podman';

export interface EngineProbe {
  engine: EngineName;
  ok: boolean;
  /** Server version when ok; otherwise what the client said. */
  detail: string;
}

const PROBES: readonly { engine: EngineName; args: string[] }[] = [
  { engine: 'docker', args: ['info', '--format', '{{.ServerVersion}}'] },
  { engine: 'podman', args: ['info', '--format', '{{.Version.Version}}'] },
];

export async function probeContainerEngines(runner: Runner, timeoutMs = 5_000, env?: NodeJS.ProcessEnv): Promise<EngineProbe[]> {
  return Promise.all(
    PROBES.map(async ({ engine, args }) => {
      const r = await runner.run(engine, args, { timeoutMs, ...(env ? { env } : {}) });
      const out = r.stdout.trim();
      if (r.code === 0 && out) return { engine, ok: true, detail: out };
      if (r.code === 127) return { engine, ok: false, detail: `${engine} CLI not installed` };
      if (r.code === 124) return { engine, ok: false, detail: `\`${engine} info\` did not answer within ${timeoutMs} ms` };
      const said = (r.stderr.trim() || out).split('\n').filter(Boolean).pop() ?? `exit ${r.code}`;
      return { engine, ok: false, detail: said };
    }),
  );
}

export function firstWorkingEngine(probes: readonly EngineProbe[]): EngineName | undefined {
  return probes.find((p) => p.ok)?.engine;
}

/** What is missing and how to get it, for `--provider kind` without an engine. */
export function missingEngineMessage(probes: readonly EngineProbe[]): string {
  const lines = probes.map((p) => `  ${p.engine}: ${p.detail}`);
  return [
    'the kind provider needs a running Docker or Podman engine, and none answered:',
    ...lines,
    'Install Docker Engine (https://docs.docker.com/engine/install/) or Podman (https://podman.io/docs/installation),',
    'start it (for example `sudo systemctl start docker`) and check that `docker info` works;',
    'or use `--provider embedded`, which runs the control plane as local processes and needs no container engine.',
  ].join('\n');
}
