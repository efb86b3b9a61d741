/**
 * Per-learner randomization. Every param gets its own generator seeded from (seed, name), so
 * adding a param to a scenario does not reshuffle the others, and the same seed always yields
 * the same world: a learner's reset reproduces their incident, another seed gives other IOCs.
 */
import type { ScenarioParam } from '../../schemas/scenario.ts';

export type ParamValue = string | string[];

/** A 32-bit hash of a string (FNV-1a), to seed the generator. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: small, fast, good enough for choosing names (not for secrets). */
export function seededRandom(seed: string): () => number {
  let state = hash(seed);
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pickIndex(random: () => number, length: number): number {
  return Math.floor(random() * length);
}

function ipInCidr(random: () => number, cidr: string): string {
  const [base = '', bitsText = '32'] = cidr.split('/');
  const bits = Number(bitsText);
  const octets = base.split('.').map(Number);
  const baseNumber = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
  const size = 2 ** (32 - bits);
  const network = bits === 0 ? 0 : (baseNumber & (~0 << (32 - bits))) >>> 0;
  // Skip the network and broadcast addresses when the block has room for hosts.
  const offset = size > 2 ? 1 + pickIndex(random, size - 2) : pickIndex(random, size);
  const address = (network + offset) >>> 0;
  return [24, 16, 8, 0].map((shift) => (address >>> shift) & 255).join('.');
}

export function resolveParam(seed: string, name: string, param: ScenarioParam): ParamValue {
  const random = seededRandom(`${seed}\u0000${name}`);
  if (param.pick) return param.pick[pickIndex(random, param.pick.length)]!;
  if (param.sample) {
    const pool = [...param.sample];
    for (let i = pool.length - 1; i > 0; i--) {
      const j = pickIndex(random, i + 1);
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    return pool.slice(0, param.count ?? pool.length);
  }
  if (param.ip) return ipInCidr(random, param.ip);
  if (param.token !== undefined) {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
    return Array.from({ length: param.token }, () => alphabet[pickIndex(random, alphabet.length)]).join('');
  }
  if (param.int) {
    const [low, high] = param.int;
    return String(low + pickIndex(random, high - low + 1));
  }
  throw new Error(`param ${name} has no kind`);
}

export function resolveParams(seed: string, params: Record<string, ScenarioParam>): Record<string, ParamValue> {
  return Object.fromEntries(Object.entries(params).map(([name, param]) => [name, resolveParam(seed, name, param)]));
}
