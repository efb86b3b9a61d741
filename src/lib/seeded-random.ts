/**
 * Reproducible randomness: the same seed always gives the same shuffle, so an attempt shows the
 * same option order after a reload and the server can regrade it later. Not for secrets.
 */

/** cyrb53: a fast 53-bit string hash with good spread, used to turn seeds and ids into numbers. */
export function hashString(text: string, salt = 0): number {
  let h1 = 0xdeadbeef ^ salt;
  let h2 = 0x41c6ce57 ^ salt;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** A random source: returns a float in [0, 1). */
export type Random = () => number;

/** mulberry32: a small PRNG whose whole state is one 32-bit number derived from the seed. */
export function seededRandom(seed: string): Random {
  let state = hashString(seed) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher-Yates shuffle into a new array; the input is left alone. */
export function shuffle<T>(items: readonly T[], random: Random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** `count` distinct items chosen at random, in their original order. */
export function sample<T>(items: readonly T[], count: number, random: Random): T[] {
  const chosen = new Set(shuffle(items.map((_, i) => i), random).slice(0, count));
  return items.filter((_, i) => chosen.has(i));
}
