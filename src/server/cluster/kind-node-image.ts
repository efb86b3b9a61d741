// Which node image a kind cluster boots, and whether the container engine already holds it.
// `kind create cluster` pulls a missing node image (about 1 GB) from a public registry. Picking
// kind on our own (auto-selection) must never start that pull, so auto-selection asks first.

import { readFile, stat } from 'node:fs/promises';

import type { EngineName } from './container-engine.ts';
import type { Runner } from './runtime.ts';

/** An operator's pinned node image; otherwise the image the kind binary was built with. */
export const KIND_NODE_IMAGE_ENV = 'IRLAB_KIND_NODE_IMAGE';

// kind's default (sigs.k8s.io/kind/pkg/apis/config/defaults.Image) is a string constant in the
// binary, e.g. kindest/node:v1.33.1@sha256:<64 hex>.
const DEFAULT_IMAGE = /kindest\/node:v\d+\.\d+\.\d+(?:@sha256:[0-9a-f]{64})?/g;

const scanned = new Map<string, string | undefined>();

/** The default node image compiled into `kindBinary`, or undefined when none is found. */
export async function defaultNodeImage(kindBinary: string): Promise<string | undefined> {
  const info = await stat(kindBinary).catch(() => undefined);
  if (!info?.isFile()) return undefined;
  const key = `${kindBinary}:${info.size}:${info.mtimeMs}`;
  if (scanned.has(key)) return scanned.get(key);
  // About 10 MB, read once per build of the binary (cached by size and mtime).
  const text = (await readFile(kindBinary)).toString('latin1');
  const found = new Set([...text.matchAll(DEFAULT_IMAGE)].map((m) => m[0]));
  // A digest-pinned reference is the constant itself; a bare tag may be a help text's example.
  const image = [...found].find((i) => i.includes('@sha256:')) ?? [...found][0];
  scanned.set(key, image);
  return image;
}

/** The node image a kind create would boot: configured, or kind's default. */
export async function kindNodeImage(kindBinary: string, env: NodeJS.ProcessEnv, configured?: string): Promise<string | undefined> {
  return configured || env[KIND_NODE_IMAGE_ENV] || (await defaultNodeImage(kindBinary));
}

/**
 * Whether the engine holds `image` locally. kind itself asks `<engine> inspect --type=image` and
 * pulls when that fails, so the same question gives the same answer kind would get.
 */
export async function nodeImagePresent(runner: Runner, engine: EngineName, image: string, timeoutMs = 10_000, env?: NodeJS.ProcessEnv): Promise<boolean> {
  const result = await runner.run(engine, ['inspect', '--type=image', image], { timeoutMs, ...(env ? { env } : {}) });
  return result.code === 0;
}
