/**
 * The server's budgets per learner and per client address (docs/security.md, "Rate limits and
 * query budgets"): cluster starts (a lab start that needs a cluster, a terminal session without a
 * lab, a drill), lab checks, and queries running at once. Each is configurable through
 * IRLAB_LIMIT_* variables (src/server/app/config.ts); 0 turns a limit off. One ServerLimits per
 * process (services.ts), so terminal sessions, lab starts and drills spend the same budgets. A refusal says which budget, and when to retry.
 *
 * The rate budgets (starts, checks, joins) live where `buckets` keeps them: in memory for one
 * process (the embedded default), or in the store (shared-buckets.ts) when fronts and cells share
 * a PostgreSQL database, so every process spends one budget. Queries running at once are counted
 * per process: a query runs in the process that admitted it.
 */
import { ConcurrencyLimiter, RateLimiter, type Charge } from './rate-limit.ts';
import type { RateBuckets } from './shared-buckets.ts';

export interface LimitsConfig {
  startsPerLearner: number;
  startsPerAddress: number;
  startsWindowSeconds: number;
  checksPerLearner: number;
  checksPerAddress: number;
  checksWindowSeconds: number;
  /** Queries running at once. */
  queriesPerLearner: number;
  queriesPerAddress: number;
  /** Class join attempts (a join code typed): what guessing codes costs. */
  joinsPerLearner: number;
  joinsPerAddress: number;
  joinsWindowSeconds: number;
}

/** Who is asking: the learner when known (a cookie), and the client address (see client-address.ts). */
export interface Requester {
  learner?: string | undefined;
  address: string;
}

/** Why an action was refused: the answer is 429 with this reason and a Retry-After header. */
export interface Refusal {
  reason: string;
  retryAfterSeconds: number;
}

function describeWindow(seconds: number): string {
  if (seconds % 3600 === 0) return seconds === 3600 ? 'an hour' : `${seconds / 3600} hours`;
  if (seconds % 60 === 0) return seconds === 60 ? 'a minute' : `${seconds / 60} minutes`;
  return `${seconds} s`;
}

export class ServerLimits {
  readonly config: LimitsConfig;
  private readonly rates: RateBuckets;
  private readonly running = new ConcurrencyLimiter();

  /** `buckets`: where the rate budgets are kept (default: this process's memory, on `now`). */
  constructor(config: LimitsConfig, now: () => number = Date.now, buckets?: RateBuckets) {
    this.config = config;
    this.rates = buckets ?? memoryBuckets(now);
  }

  /** One action that creates (or claims) a cluster. */
  clusterStart(who: Requester, what = 'cluster starts'): Promise<Refusal | undefined> {
    const c = this.config;
    return this.take('start', who, what, c.startsPerLearner, c.startsPerAddress, c.startsWindowSeconds);
  }

  /** One lab check (the checks read the cluster and its audit log). */
  check(who: Requester): Promise<Refusal | undefined> {
    const c = this.config;
    return this.take('check', who, 'checks', c.checksPerLearner, c.checksPerAddress, c.checksWindowSeconds);
  }

  /** One attempt to join a class with a code (right or wrong: a guess costs the same). */
  join(who: Requester): Promise<Refusal | undefined> {
    const c = this.config;
    return this.take('join', who, 'attempts to join a class', c.joinsPerLearner, c.joinsPerAddress, c.joinsWindowSeconds);
  }

  /** Room for one more running query; `release` when it ends. `retryAfterSeconds`: how long a query may run. */
  query(who: Requester, retryAfterSeconds: number): { ok: true; release: () => void } | ({ ok: false } & Refusal) {
    const slots = [{ key: `query:address:${who.address}`, max: this.config.queriesPerAddress }];
    if (who.learner) slots.unshift({ key: `query:learner:${who.learner}`, max: this.config.queriesPerLearner });
    const admitted = this.running.enter(slots);
    if (admitted.ok) return admitted;
    const learner = admitted.key.startsWith('query:learner:');
    const max = learner ? this.config.queriesPerLearner : this.config.queriesPerAddress;
    return {
      ok: false,
      reason: `${learner ? 'you already have' : 'this address already has'} ${max} ${max === 1 ? 'query' : 'queries'} running; wait for ${max === 1 ? 'it' : 'one'} to finish, then run this one again`,
      retryAfterSeconds: retryAfterSeconds,
    };
  }

  private async take(kind: string, who: Requester, what: string, perLearner: number, perAddress: number, windowSeconds: number): Promise<Refusal | undefined> {
    const windowMs = windowSeconds * 1000;
    const charges: Charge[] = [{ key: `${kind}:address:${who.address}`, rate: { limit: perAddress, windowMs } }];
    if (who.learner) charges.unshift({ key: `${kind}:learner:${who.learner}`, rate: { limit: perLearner, windowMs } });
    const admission = await this.rates.take(charges);
    if (admission.ok) return undefined;
    const learner = admission.key.startsWith(`${kind}:learner:`);
    const retryAfterSeconds = Math.max(1, Math.ceil(admission.retryAfterMs / 1000));
    return {
      reason: `too many ${what} ${learner ? 'by you' : 'from your address'}: at most ${learner ? perLearner : perAddress} in ${describeWindow(windowSeconds)}; try again in ${retryAfterSeconds} s`,
      retryAfterSeconds,
    };
  }
}

/** One process's buckets (RateLimiter), as RateBuckets. */
export function memoryBuckets(now: () => number = Date.now): RateBuckets {
  const limiter = new RateLimiter(now);
  return { take: (charges) => Promise.resolve(limiter.take(charges)) };
}

/** The headers of a 429 answer. */
export function refusalHeaders(refusal: Refusal): Record<string, string> {
  return { 'retry-after': String(refusal.retryAfterSeconds), 'cache-control': 'no-store' };
}

/** A 429 for endpoints that answer `{error}` (labs, drills, the terminal). */
export function tooManyRequests(refusal: Refusal): Response {
  return new Response(JSON.stringify({ error: refusal.reason, retryAfterSeconds: refusal.retryAfterSeconds }), {
    status: 429,
    headers: { 'content-type': 'application/json; charset=utf-8', ...refusalHeaders(refusal) },
  });
}
