/**
 * Per-learner randomization. Every param gets its own generator seeded from (seed, name), so
 * adding a param to a scenario does not reshuffle the others, and the same seed always yields
 * the same world: a learner's reset reproduces their incident, another seed gives other IOCs.
 */
import type { ScenarioParam } from '../../schemas/scenario.ts';
import { seededRandom, shuffle } from '../../lib/seeded-random.ts';

export type ParamValue = string | string[];

export { seededRandom };

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
    return shuffle(param.sample, random).slice(0, param.count ?? param.sample.length);
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
