/**
 * Join codes: 8 characters from an alphabet without look-alikes (no 0/O, no 1/I/L), shown as
 * XXXX-XXXX. 31^8 ≈ 8.5·10^11 codes: with the join budget per address
 * (IRLAB_LIMIT_JOINS_*) guessing one open code takes far longer than any event lasts.
 */
import { randomInt } from 'node:crypto';

export const JOIN_CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export const JOIN_CODE_LENGTH = 8;

/** A fresh code, normalised (no dash). `pick(n)` is a uniform integer below n (injected for tests). */
export function newJoinCode(pick: (n: number) => number = randomInt): string {
  let code = '';
  for (let i = 0; i < JOIN_CODE_LENGTH; i++) code += JOIN_CODE_ALPHABET[pick(JOIN_CODE_ALPHABET.length)];
  return code;
}

/** XXXX-XXXX, for people to read and type. */
export const formatJoinCode = (code: string) => `${code.slice(0, 4)}-${code.slice(4)}`;

/**
 * What a person typed, as a stored code: case, spaces and dashes do not matter. Undefined when it
 * cannot be a code (then say what a code looks like: JOIN_CODE_HELP).
 */
export function normaliseJoinCode(typed: unknown): string | undefined {
  if (typeof typed !== 'string' || typed.length > 64) return undefined;
  const code = typed.toUpperCase().replace(/[\s-]/g, '');
  if (code.length !== JOIN_CODE_LENGTH) return undefined;
  for (const c of code) if (!JOIN_CODE_ALPHABET.includes(c)) return undefined;
  return code;
}

export const JOIN_CODE_HELP = `a join code is ${JOIN_CODE_LENGTH} letters and digits, like ${formatJoinCode('K7M2Q9XC')}; ask your instructor for it`;
