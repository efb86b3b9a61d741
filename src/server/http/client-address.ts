/**
 * The client address that per-address budgets (src/server/limits) key on: the peer of the TCP
 * connection, or on a cell, the browser's address its front signed into the forwarded request's
 * header (cells/forward-auth.ts; the gate records it here once the header is verified, so a cell
 * never charges a front's address); behind a trusted reverse proxy, the address that proxy saw
 * (`proxiedAddress`, recorded by the HTTP server). Every caller goes through here.
 *
 * IPv6 addresses are reduced to their /64: one host usually holds a whole /64, and keying on full
 * addresses would give it 2^64 budgets. IPv4-mapped IPv6 (`::ffff:127.0.0.1`) is plain IPv4.
 */
import type { IncomingMessage } from 'node:http';
import { isIP, isIPv4, isIPv6 } from 'node:net';

/** Requests a cell admitted from a front → the browser's address in the front's verified header. */
const forwarded = new WeakMap<IncomingMessage, string>();

/** The cell's gate, once a front's signed header is verified: this request is the browser's at `address`. */
export function trustForwardedAddress(req: IncomingMessage, address: string): void {
  forwarded.set(req, address);
}

/**
 * Behind a reverse proxy irlab trusts (IRLAB_TRUST_PROXY=1: one hop, the Ingress): the address
 * that proxy saw, the last X-Forwarded-For entry (it appends its peer; entries before it are the
 * client's own claims and forgeable). Undefined when there is none or it is not an address.
 */
export function proxiedAddress(req: IncomingMessage): string | undefined {
  const header = req.headers['x-forwarded-for'];
  const entries = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',');
  const last = entries.at(-1)?.trim().replace(/^\[(.*)\](?::\d+)?$/, '$1');
  return last && last.length <= 64 && isIP(last) ? normalizeAddress(last) : undefined;
}

/** A raw route's client (serve.ts, terminal and drill routes). */
export function requestAddress(req: IncomingMessage): string {
  return forwarded.get(req) ?? normalizeAddress(req.socket.remoteAddress);
}

/**
 * An Astro endpoint's client: the address the HTTP server put in `locals` (requestAddress of the
 * request, so a cell's forwarded address too); else (the dev server) `clientAddress`, the
 * socket's peer unless Astro trusts a proxy (security.allowedDomains, unset).
 */
export function endpointAddress(context: { clientAddress: string; locals?: { clientAddress?: string | undefined } }): string {
  if (context.locals?.clientAddress) return context.locals.clientAddress;
  try {
    return normalizeAddress(context.clientAddress);
  } catch {
    // Astro throws when the adapter cannot tell (not the case with the Node adapter).
    return normalizeAddress(undefined);
  }
}

export function normalizeAddress(peer: string | undefined): string {
  if (!peer) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(peer);
  if (mapped && isIPv4(mapped[1]!)) return mapped[1]!;
  if (!isIPv6(peer)) return peer;
  return `${expandIPv6(peer).slice(0, 4).join(':')}::/64`;
}

/** The eight groups of an IPv6 address, without leading zeros (a zone id is dropped). */
function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.split('%')[0]!.split('::');
  const parse = (part: string) => (part ? part.split(':') : []);
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  // A trailing dotted IPv4 part (`64:ff9b::1.2.3.4`) stands for two groups.
  const width = (parts: string[]) => parts.reduce((n, p) => n + (p.includes('.') ? 2 : 1), 0);
  const groups = [...left, ...Array<string>(Math.max(0, 8 - width(left) - width(right))).fill('0'), ...right];
  return groups.map((g) => (g.includes('.') ? g : Number.parseInt(g, 16).toString(16)));
}
