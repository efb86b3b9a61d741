/**
 * Drains the xAPI outbox into the LRS, oldest first: a batch is one `POST /statements` with an
 * array (a single statement is `PUT /statements?statementId=`), each request with
 * `X-Experience-API-Version: 1.0.3`, Basic credentials and a time limit. What the LRS answers
 * decides each statement's fate:
 * - 200/204: delivered. A 409 for a statement id irlab assigned (only this outbox uses it) means
 *   the LRS already has it from a try whose answer was lost: delivered too, never sent twice.
 * - 5xx, 429, no connection, no answer in time: nothing is lost, the batch waits (exponential
 *   backoff with jitter between the configured bounds; a 429's Retry-After is honoured).
 * - 401/403: irlab's credentials are wrong, not the statements: they wait as for a 5xx.
 * - another 4xx: for a batch, each statement is sent alone to find the one refused; a refused
 *   statement is marked failed with the LRS's reason (a log line, `irlab xapi status`).
 * Each batch is claimed in the outbox before it is sent (outbox.ts: two senders never send one row
 * twice), for as long as sending it may take: a request per statement at most, each within the
 * time limit, plus one for the batch.
 * Clocks and sleeps are injected (tests run a minute's outage without waiting it), and close()
 * aborts the request in flight and the sleep through one AbortSignal.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { XAPI_VERSION } from './statements.ts';
import type { OutboxEntry, XapiOutbox } from './outbox.ts';

export interface LrsConfig {
  /** The LRS's xAPI base, without a trailing slash (`/statements` is appended). */
  endpoint: string;
  /** The Authorization header value (`Basic …`); never logged. */
  authorization: string;
  batchSize: number;
  timeoutMs: number;
  retryMinMs: number;
  retryMaxMs: number;
}

/** Time as the sender sees it: real in the server, virtual in tests. */
export interface SenderTimers {
  /** Waits `ms`; rejects when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const realTimers: SenderTimers = { sleep: (ms, signal) => sleep(ms, undefined, { signal }) };

/**
 * The wait before try number `failures + 1` after `failures` failed ones in a row: doubling from
 * the minimum up to the maximum, then "equal jitter" (half fixed, half random) so servers that lost
 * the LRS at the same moment do not all come back at the same moment.
 */
export function backoffDelay(failures: number, bounds: { retryMinMs: number; retryMaxMs: number }, random: () => number = Math.random): number {
  const ceiling = Math.min(bounds.retryMaxMs, bounds.retryMinMs * 2 ** Math.max(0, Math.min(failures - 1, 40)));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Retry-After in seconds or as an HTTP date, in ms from now; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

type Outcome = { kind: 'delivered' } | { kind: 'retry'; reason: string; afterMs?: number | undefined } | { kind: 'refused'; reason: string } | { kind: 'stopped' };

export interface SenderOptions {
  outbox: XapiOutbox;
  lrs: LrsConfig;
  fetch?: typeof globalThis.fetch;
  timers?: SenderTimers;
  random?: () => number;
  log?: (line: string) => void;
  error?: (line: string) => void;
}

export class XapiSender {
  readonly #outbox: XapiOutbox;
  readonly #lrs: LrsConfig;
  readonly #fetch: typeof globalThis.fetch;
  readonly #timers: SenderTimers;
  readonly #random: () => number;
  readonly #log: (line: string) => void;
  readonly #error: (line: string) => void;
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;
  #woken = false;
  #wake: (() => void) | undefined;
  /** Failed tries in a row (the backoff's exponent); 0 while the LRS answers. */
  #failures = 0;

  constructor(options: SenderOptions) {
    this.#outbox = options.outbox;
    this.#lrs = options.lrs;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#timers = options.timers ?? realTimers;
    this.#random = options.random ?? Math.random;
    this.#log = options.log ?? ((line) => console.log(line));
    this.#error = options.error ?? ((line) => console.error(line));
  }

  /** Starts draining (what a previous process left first); idempotent. */
  start(): void {
    this.#loop ??= this.#run().catch((caught: unknown) => this.#error(`irlab xapi: the sender stopped on an unexpected error: ${caught instanceof Error ? caught.message : String(caught)}; statements wait in the outbox until the next start`));
  }

  /** A statement entered the outbox: send it now unless the sender waits out a backoff. */
  wake(): void {
    this.#woken = true;
    this.#wake?.();
  }

  /** Failed tries in a row now (0 while the LRS answers). */
  get failuresInARow(): number {
    return this.#failures;
  }

  /** Stops: the request in flight and any wait are aborted; what is not delivered stays in the outbox. */
  async close(): Promise<void> {
    this.#stop.abort();
    this.#wake?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      this.#woken = false;
      const batch = await this.#outbox.claim(this.#lrs.batchSize, this.#lrs.timeoutMs * (this.#lrs.batchSize + 2));
      if (batch.length === 0) {
        // Statements another sender holds (or one that died, a crashed process's): look again when
        // its claim runs out, or sooner when a statement enters.
        await this.#idle(await this.#outbox.heldForMs());
        continue;
      }
      const outcome = await this.#send(batch);
      if (outcome.kind === 'stopped') {
        // Given back untried: the next start (or another process) sends them without waiting out the claim.
        await this.#outbox.release(batch.map((entry) => entry.id));
        return;
      }
      if (outcome.kind !== 'retry') {
        if (this.#failures > 0) this.#log(`irlab xapi: the LRS answers again after ${this.#failures} failed ${this.#failures === 1 ? 'try' : 'tries'}; sending what waited`);
        this.#failures = 0;
        continue;
      }
      this.#failures += 1;
      await this.#outbox.retrying(
        batch.map((entry) => entry.id),
        outcome.reason,
      );
      const delay = Math.min(this.#lrs.retryMaxMs, Math.max(outcome.afterMs ?? 0, backoffDelay(this.#failures, this.#lrs, this.#random)));
      if (this.#failures === 1) this.#error(`irlab xapi: ${outcome.reason}; ${(await this.#outbox.status(0)).pending} statement(s) wait in the outbox and are retried (next in ${(delay / 1000).toFixed(1)} s, then backing off up to ${(this.#lrs.retryMaxMs / 1000).toFixed(0)} s)`);
      try {
        await this.#timers.sleep(delay, signal);
      } catch {
        return;
      }
    }
  }

  /** Waits until a statement enters, `forMs` passed (when given), or the sender stops. */
  async #idle(forMs?: number): Promise<void> {
    if (this.#woken || this.#stop.signal.aborted) return;
    const woken = new Promise<void>((resolve) => {
      this.#wake = resolve;
    });
    if (forMs === undefined) {
      await woken;
    } else {
      const done = new AbortController();
      await Promise.race([woken, this.#timers.sleep(forMs, AbortSignal.any([this.#stop.signal, done.signal])).catch(() => undefined)]);
      done.abort();
    }
    this.#wake = undefined;
  }

  /** Sends a batch; a refused batch is split so only the refused statement fails. */
  async #send(batch: OutboxEntry[]): Promise<Outcome> {
    if (batch.length === 1) return this.#sendOne(batch[0]!);
    const outcome = await this.#request('POST', `${this.#lrs.endpoint}/statements`, `[${batch.map((entry) => entry.json).join(',')}]`, true);
    if (outcome.kind === 'delivered') await this.#outbox.delivered(batch.map((entry) => entry.id));
    if (outcome.kind !== 'refused') return outcome;
    for (const entry of batch) {
      const one = await this.#sendOne(entry);
      if (one.kind === 'retry' || one.kind === 'stopped') return one;
    }
    return { kind: 'delivered' };
  }

  async #sendOne(entry: OutboxEntry): Promise<Outcome> {
    const outcome = await this.#request('PUT', `${this.#lrs.endpoint}/statements?statementId=${encodeURIComponent(entry.id)}`, entry.json, false);
    if (outcome.kind === 'delivered') await this.#outbox.delivered([entry.id]);
    if (outcome.kind === 'refused') {
      await this.#outbox.failed(entry.id, outcome.reason);
      this.#error(`irlab xapi: the LRS refused statement ${entry.id}: ${outcome.reason}; it is kept as failed (irlab xapi status lists it, irlab xapi retry sends it again)`);
      // The next statement goes on: one refused statement does not hold up the others.
      return { kind: 'delivered' };
    }
    return outcome;
  }

  async #request(method: 'POST' | 'PUT', url: string, body: string, batch: boolean): Promise<Outcome> {
    const signal = this.#stop.signal;
    try {
      const response = await this.#fetch(url, {
        method,
        headers: { authorization: this.#lrs.authorization, 'content-type': 'application/json', 'x-experience-api-version': XAPI_VERSION },
        body,
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.#lrs.timeoutMs)]),
      });
      const text = await response.text().catch(() => '');
      const status = response.status;
      if (status >= 200 && status < 300) return { kind: 'delivered' };
      // 409 to a batch: which of them it already has is unknown; each alone says.
      if (status === 409) return batch ? { kind: 'refused', reason: 'HTTP 409' } : { kind: 'delivered' };
      const reason = `the LRS answered HTTP ${status}${text.trim() ? `: ${text.replace(/\s+/g, ' ').trim().slice(0, 300)}` : ''}`;
      // Refused credentials are the operator's to fix, not the statements' fault: they wait.
      if (status === 401 || status === 403) return { kind: 'retry', reason: `${reason} (the LRS refuses irlab's credentials: check IRLAB_XAPI_KEY and IRLAB_XAPI_SECRET, or IRLAB_XAPI_AUTH)` };
      if (status === 429 || status >= 500) return { kind: 'retry', reason, afterMs: retryAfterMs(response.headers.get('retry-after')) };
      if (status >= 400) return { kind: 'refused', reason };
      return { kind: 'retry', reason: `${reason} (not an answer xAPI defines)` };
    } catch (caught) {
      if (signal.aborted) return { kind: 'stopped' };
      const error = caught as Error & { cause?: { code?: string; message?: string } };
      const why = error.name === 'TimeoutError' ? `no answer within ${this.#lrs.timeoutMs / 1000} s` : (error.cause?.code ?? error.cause?.message ?? error.message);
      return { kind: 'retry', reason: `the LRS at ${this.#lrs.endpoint} cannot be reached (${why})` };
    }
  }
}
