/**
 * Budgets for what learners may do, in memory. Two shapes:
 * - `RateLimiter`: token buckets, `limit` actions per `windowMs`, refilled continuously (a learner
 *   who used up a budget gets one action back every `windowMs / limit`, not all at once later);
 * - `ConcurrencyLimiter`: at most `max` at once.
 * Each action is charged to several keys at once (this learner, this address): it is admitted only
 * when every key has room, and then charged to all of them. The clock is injected for tests.
 */

export interface Rate {
  /** Actions allowed per window; 0 turns the limit off. */
  limit: number;
  windowMs: number;
}

export interface Charge {
  /** The bucket, e.g. `start:learner:<id>` or `start:address:<ip>`. */
  key: string;
  rate: Rate;
}

export type Admission = { ok: true } | { ok: false; /** the key that has no room */ key: string; retryAfterMs: number };

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets kept before full ones (as good as absent) are swept. */
const SWEEP_AT = 10_000;

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket & { rate: Rate }>();
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  /** Takes one action from every charge's budget, or from none when any budget is used up. */
  take(charges: readonly Charge[]): Admission {
    const now = this.now();
    const active = charges.filter((c) => c.rate.limit > 0);
    let refusal: Admission | undefined;
    for (const { key, rate } of active) {
      const tokens = this.tokens(key, rate, now);
      if (tokens >= 1) continue;
      const retryAfterMs = Math.ceil(((1 - tokens) * rate.windowMs) / rate.limit);
      if (!refusal || (!refusal.ok && retryAfterMs > refusal.retryAfterMs)) refusal = { ok: false, key, retryAfterMs };
    }
    if (refusal) return refusal;
    for (const { key, rate } of active) this.buckets.set(key, { tokens: this.tokens(key, rate, now) - 1, at: now, rate });
    if (this.buckets.size > SWEEP_AT) this.sweep(now);
    return { ok: true };
  }

  /** How many buckets are kept (tests: sweeping keeps memory bounded). */
  get size(): number {
    return this.buckets.size;
  }

  private tokens(key: string, rate: Rate, now: number): number {
    const bucket = this.buckets.get(key);
    if (!bucket) return rate.limit;
    return Math.min(rate.limit, bucket.tokens + (Math.max(0, now - bucket.at) * rate.limit) / rate.windowMs);
  }

  private sweep(now: number) {
    for (const [key, bucket] of this.buckets) if (this.tokens(key, bucket.rate, now) >= bucket.rate.limit) this.buckets.delete(key);
  }
}

export interface Slot {
  key: string;
  /** At most this many at once; 0 turns the limit off. */
  max: number;
}

export class ConcurrencyLimiter {
  private readonly running = new Map<string, number>();

  /** Admits when every slot has room: returns the function that gives the room back (once). */
  enter(slots: readonly Slot[]): { ok: true; release: () => void } | { ok: false; key: string } {
    const active = slots.filter((s) => s.max > 0);
    const full = active.find((s) => (this.running.get(s.key) ?? 0) >= s.max);
    if (full) return { ok: false, key: full.key };
    for (const { key } of active) this.running.set(key, (this.running.get(key) ?? 0) + 1);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        for (const { key } of active) {
          const left = (this.running.get(key) ?? 1) - 1;
          if (left > 0) this.running.set(key, left);
          else this.running.delete(key);
        }
      },
    };
  }

  /** Running now under `key`. */
  count(key: string): number {
    return this.running.get(key) ?? 0;
  }
}
