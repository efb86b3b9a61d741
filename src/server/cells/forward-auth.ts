/**
 * The signed header a front adds when it proxies a learner's request or WebSocket (terminal,
 * drill) to the cell hosting their run, so the cell can trust who it is for without seeing the
 * browser's cookie. A cell accepts a proxied request only with a header that:
 *   - is signed with the key every front and cell share (IRLAB_CELL_FORWARD_KEY): HMAC-SHA256 over
 *     the method, the path (with query), the learner id, the cell id, the browser's address, the
 *     expiry and a nonce, so it is good for that one request to that one cell, compared in
 *     constant time;
 *   - names this cell (a header made for another cell is refused there);
 *   - has not expired (seconds from now; the clock is injected) and does not claim a long life;
 *   - carries a nonce not seen before while it is valid (a replay is refused; the nonces remembered
 *     are bounded: when full of unexpired ones, new headers are refused rather than any forgotten).
 * Anything else (missing, repeated, too long, wrong shape, non-canonical base64) is refused with a
 * reason, never an exception: the header reaches the cell from the network.
 *
 *   x-irlab-forward: v2.<learner id>.<cell id>.<address>.<expiry>.<nonce>.<signature>
 * ids, address, nonce (16 bytes) and signature (32 bytes) in base64url without padding, expiry in
 * Unix seconds. The address is the browser's as the front saw it (client-address.ts): the cell
 * charges per-address budgets to it, not to the front that connects (v1 had none; a v1 header is
 * refused as malformed, so fronts and cells are upgraded together).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const FORWARD_HEADER = 'x-irlab-forward';
const VERSION = 'v2';
/** Longer than any header this module makes (ids of 128 characters and an address of 64 included). */
const MAX_HEADER = 640;
const ID = /^[\w.:-]{1,128}$/;
/** A normalised client address (client-address.ts): IPv4, an IPv6 /64, or `unknown`. */
const ADDRESS = /^[\w.:/-]{1,64}$/;
const B64URL = /^[A-Za-z0-9_-]+$/;
const EXPIRY = /^[1-9][0-9]{0,11}$/;
const NONCE_BYTES = 16;
const MAC_BYTES = 32;
/** Shortest shared key accepted: 32 characters (`openssl rand -base64 48` gives 64). */
export const MIN_KEY_LENGTH = 32;

/** What one signature covers: the request as the cell receives it and who it is for. */
export interface ForwardedRequest {
  method: string;
  /** The request target: path and query, exactly as the cell's request line will carry it. */
  path: string;
  learnerId: string;
  cellId: string;
  /** The browser's address as the front saw it (client-address.ts `requestAddress`). */
  address: string;
}

export type ForwardRefusal = 'missing' | 'malformed' | 'wrong-cell' | 'expired' | 'bad-signature' | 'replayed' | 'busy';
export type ForwardVerdict = { ok: true; learnerId: string; cellId: string; address: string; expiresAt: number } | { ok: false; reason: ForwardRefusal };

/**
 * The shared key from its setting, or undefined when unset. Throws (a message for the settings
 * table, never echoing the value) when it is too short or holds white space.
 */
export function forwardKeyFrom(raw: string | undefined): Buffer | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  if (/\s/.test(raw)) throw new Error('holds white space; set it to one random word of at least 32 characters, e.g. the output of `openssl rand -base64 48`, the same on every front and cell');
  if (raw.length < MIN_KEY_LENGTH) throw new Error(`is shorter than ${MIN_KEY_LENGTH} characters; set it to a random word of at least ${MIN_KEY_LENGTH} characters, e.g. the output of \`openssl rand -base64 48\`, the same on every front and cell`);
  return Buffer.from(raw, 'utf8');
}

function keyOf(key: Buffer | string): Buffer {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  if (bytes.length < MIN_KEY_LENGTH) throw new Error(`forward-auth: the key is shorter than ${MIN_KEY_LENGTH} bytes`);
  return Buffer.from(bytes);
}

/** Length-prefixed fields: no two different requests give the same signed text. */
function mac(key: Buffer, fields: readonly string[]): Buffer {
  const hmac = createHmac('sha256', key);
  hmac.update(`irlab-forward ${VERSION}\n`);
  for (const field of fields) hmac.update(`${Buffer.byteLength(field)}:${field}\n`);
  return hmac.digest();
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
/** The bytes of canonical unpadded base64url (exactly one spelling per value), or undefined. */
function canonical(text: string): Buffer | undefined {
  if (!B64URL.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

export interface SignerOptions {
  key: Buffer | string;
  clock?: () => Date;
  /** How long a header is good for (default 30 s): long enough to reach the cell, no longer. */
  ttlSeconds?: number;
  random?: (size: number) => Buffer;
}

/** A front's signer: one header per proxied request or WebSocket upgrade. */
export function forwardSigner({ key, clock = () => new Date(), ttlSeconds = 30, random = randomBytes }: SignerOptions) {
  const secret = keyOf(key);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 300) throw new Error(`forward-auth: ttlSeconds ${ttlSeconds} is not a whole number from 1 to 300`);
  return {
    sign(request: ForwardedRequest): string {
      if (!ID.test(request.learnerId) || !ID.test(request.cellId)) throw new Error('forward-auth: the learner id and the cell id must be ids (1 to 128 letters, digits, "_", ".", ":" or "-")');
      if (!ADDRESS.test(request.address)) throw new Error('forward-auth: the address must be a normalised client address (client-address.ts)');
      const expiry = String(Math.floor(clock().getTime() / 1000) + ttlSeconds);
      const nonce = random(NONCE_BYTES).toString('base64url');
      const signature = mac(secret, [request.method.toUpperCase(), request.path, request.learnerId, request.cellId, request.address, expiry, nonce]).toString('base64url');
      return [VERSION, b64(request.learnerId), b64(request.cellId), b64(request.address), expiry, nonce, signature].join('.');
    },
  };
}

export interface VerifierOptions {
  key: Buffer | string;
  /** This cell: headers signed for another are refused. */
  cellId: string;
  clock?: () => Date;
  /** Refuse an expiry further ahead than this (default 60 s; the signers' ttl plus clock skew). */
  maxTtlSeconds?: number;
  /** Nonces remembered at most (default 100,000: a few MB, over a thousand requests a second at 60 s). */
  replayCapacity?: number;
}

/** A cell's verifier. */
export function forwardVerifier({ key, cellId, clock = () => new Date(), maxTtlSeconds = 60, replayCapacity = 100_000 }: VerifierOptions) {
  const secret = keyOf(key);
  if (!ID.test(cellId)) throw new Error(`forward-auth: the cell id ${JSON.stringify(cellId)} is not an id`);
  /** Nonce → its header's expiry (ms); entries go once expired, since an expired header is refused anyway. */
  const seen = new Map<string, number>();
  const forgetExpired = (now: number, everything: boolean) => {
    for (const [nonce, expiresAt] of seen) {
      if (expiresAt <= now) seen.delete(nonce);
      else if (!everything) break;
    }
  };
  const refuse = (reason: ForwardRefusal): ForwardVerdict => ({ ok: false, reason });

  return {
    /** The verdict on a header as it arrived (Node gives a string, an array when repeated, or undefined). */
    verify(header: unknown, request: { method: string; path: string }): ForwardVerdict {
      if (header === undefined || header === null || header === '') return refuse('missing');
      if (typeof header !== 'string' || header.length > MAX_HEADER) return refuse('malformed');
      if (typeof request?.method !== 'string' || typeof request.path !== 'string') return refuse('malformed');
      const parts = header.split('.');
      if (parts.length !== 7 || parts[0] !== VERSION) return refuse('malformed');
      const [, learner64, cell64, address64, expiry, nonce, signature] = parts as [string, string, string, string, string, string, string];
      const learnerBytes = canonical(learner64);
      const cellBytes = canonical(cell64);
      const addressBytes = canonical(address64);
      const nonceBytes = canonical(nonce);
      const given = canonical(signature);
      if (!learnerBytes || !cellBytes || !addressBytes || !nonceBytes || !given || nonceBytes.length !== NONCE_BYTES || given.length !== MAC_BYTES || !EXPIRY.test(expiry)) return refuse('malformed');
      const learnerId = learnerBytes.toString('utf8');
      const forCell = cellBytes.toString('utf8');
      const address = addressBytes.toString('utf8');
      // ids and addresses are ASCII: a decoding that does not round-trip was never made by a signer
      if (!ID.test(learnerId) || !ID.test(forCell) || !ADDRESS.test(address) || b64(learnerId) !== learner64 || b64(forCell) !== cell64 || b64(address) !== address64) return refuse('malformed');
      if (forCell !== cellId) return refuse('wrong-cell');
      const now = clock().getTime();
      const expiresAt = Number(expiry) * 1000;
      if (expiresAt <= now) return refuse('expired');
      if (expiresAt > now + maxTtlSeconds * 1000) return refuse('malformed');
      const expected = mac(secret, [request.method.toUpperCase(), request.path, learnerId, forCell, address, expiry, nonce]);
      if (!timingSafeEqual(expected, given)) return refuse('bad-signature');
      forgetExpired(now, false);
      if (seen.has(nonce)) return refuse('replayed');
      if (seen.size >= replayCapacity) {
        forgetExpired(now, true);
        if (seen.size >= replayCapacity) return refuse('busy');
      }
      seen.set(nonce, expiresAt);
      return { ok: true, learnerId, cellId: forCell, address, expiresAt };
    },
    /** Nonces held now (for tests and the cell's health figures). */
    remembered: () => seen.size,
  };
}

export type ForwardVerifier = ReturnType<typeof forwardVerifier>;
