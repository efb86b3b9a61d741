/**
 * A bounded pool of worker threads for CPU-heavy jobs (queries over audit logs), so that one
 * learner's job never stalls the event loop that serves everyone's terminals.
 *
 * Bounded everywhere: at most `size` workers, at most `queue` jobs waiting (then `busy`), each job
 * `budgetMs` of time (the worker's AbortSignal fires at the budget; a worker still busy `graceMs`
 * later is terminated and replaced) and `resourceLimits` of memory (a worker that runs out is
 * replaced). A caller's AbortSignal (the client went away) drops a waiting job or terminates its
 * worker. Jobs and answers are plain data (structured clone).
 *
 * The worker module calls `serveWorkerJobs(handler)`.
 */
import { parentPort, Worker, type ResourceLimits } from 'node:worker_threads';

export type PoolRefusalKind = 'busy' | 'time' | 'memory' | 'failed' | 'cancelled' | 'closed';

/** Why a job did not produce an answer. Matched by name (a bundle may hold another copy of the class). */
export class PoolRefusal extends Error {
  readonly kind: PoolRefusalKind;
  /** When trying again may succeed (a running job ends within its budget). */
  readonly retryAfterSeconds: number;
  constructor(kind: PoolRefusalKind, message: string, retryAfterSeconds = 1) {
    super(message);
    this.name = 'PoolRefusal';
    this.kind = kind;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export function isPoolRefusal(error: unknown): error is PoolRefusal {
  return error instanceof Error && error.name === 'PoolRefusal' && typeof (error as { kind?: unknown }).kind === 'string';
}

export interface WorkerPoolOptions {
  /** Absolute path of the worker's module (a .ts file runs under Node's type stripping). */
  file: string;
  size: number;
  /** Jobs that may wait for a worker; one more is refused as `busy`. */
  queue: number;
  budgetMs: number;
  /** How long past the budget a worker may take to notice its signal before it is terminated. */
  graceMs?: number;
  resourceLimits?: ResourceLimits;
}

interface Job<I, O> {
  id: number;
  input: I;
  resolve: (output: O) => void;
  reject: (error: Error) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
  timer?: NodeJS.Timeout;
}

interface Slot<I, O> {
  worker: Worker;
  job: Job<I, O> | undefined;
  /** The worker's module has loaded and listens: its job's time starts then, not at spawn. */
  ready: boolean;
}

/**
 * How long a new worker may take to load its module before its first job's budget starts. A
 * worker thread boots in tens of milliseconds, several hundred on a loaded machine; the budget is
 * the query's, so boot time must not eat into it (nor may a worker that never boots hold a job).
 */
const BOOT_ALLOWANCE_MS = 10_000;

/** The message a worker sends once `serveWorkerJobs` listens. */
const READY = 'irlab-worker-ready';

type Reply<O> = { id: number; ok: true; output: O } | { id: number; ok: false; error: { name: string; message: string } };

export class WorkerPool<I, O> {
  private readonly options: Required<Omit<WorkerPoolOptions, 'resourceLimits'>> & Pick<WorkerPoolOptions, 'resourceLimits'>;
  private readonly slots = new Set<Slot<I, O>>();
  private readonly waiting: Job<I, O>[] = [];
  private nextId = 1;
  private closed = false;

  constructor(options: WorkerPoolOptions) {
    if (options.size < 1 || options.queue < 0 || options.budgetMs <= 0) throw new Error(`a worker pool needs size ≥ 1, queue ≥ 0 and a budget > 0 (got ${options.size}, ${options.queue}, ${options.budgetMs})`);
    this.options = { graceMs: 1000, ...options };
  }

  /** Workers started and jobs waiting (health figures, tests). */
  get stats() {
    return { workers: this.slots.size, busy: [...this.slots].filter((s) => s.job).length, waiting: this.waiting.length };
  }

  run(input: I, signal?: AbortSignal): Promise<O> {
    if (this.closed) return Promise.reject(new PoolRefusal('closed', 'the server is shutting down'));
    if (signal?.aborted) return Promise.reject(new PoolRefusal('cancelled', 'the request was cancelled'));
    return new Promise<O>((resolve, reject) => {
      const job: Job<I, O> = { id: this.nextId++, input, resolve, reject, signal, onAbort: () => this.cancel(job) };
      const free = [...this.slots].find((s) => !s.job);
      if (free) return this.dispatch(free, job);
      if (this.slots.size < this.options.size) return this.dispatch(this.spawn(), job);
      if (this.waiting.length >= this.options.queue) {
        return reject(new PoolRefusal('busy', `the server is busy with other queries (${this.slots.size} running, ${this.waiting.length} waiting)`, this.budgetSeconds));
      }
      signal?.addEventListener('abort', job.onAbort, { once: true });
      this.waiting.push(job);
    });
  }

  /** Refuses new jobs, fails waiting and running ones, and stops every worker. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.waiting.splice(0)) this.settle(job, new PoolRefusal('closed', 'the server is shutting down'));
    await Promise.all([...this.slots].map((slot) => this.retire(slot, new PoolRefusal('closed', 'the server is shutting down'))));
  }

  private spawn(): Slot<I, O> {
    const worker = new Worker(this.options.file, this.options.resourceLimits ? { resourceLimits: this.options.resourceLimits } : {});
    const slot: Slot<I, O> = { worker, job: undefined, ready: false };
    worker.on('message', (reply: Reply<O> | typeof READY) => {
      if (reply !== READY) return this.answered(slot, reply);
      slot.ready = true;
      if (slot.job) this.arm(slot, slot.job);
    });
    worker.on('error', (error: Error & { code?: string }) => {
      const refusal =
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new PoolRefusal('memory', `the query needed more than ${this.options.resourceLimits?.maxOldGenerationSizeMb ?? '?'} MB of memory`, this.budgetSeconds)
          : new PoolRefusal('failed', `the query worker failed: ${error.message}`);
      void this.retire(slot, refusal);
    });
    worker.on('exit', () => void this.retire(slot, new PoolRefusal('failed', 'the query worker stopped')));
    this.slots.add(slot);
    return slot;
  }

  private dispatch(slot: Slot<I, O>, job: Job<I, O>) {
    slot.job = job;
    job.signal?.removeEventListener('abort', job.onAbort);
    job.signal?.addEventListener('abort', job.onAbort, { once: true });
    this.arm(slot, job);
    slot.worker.ref();
    slot.worker.postMessage({ id: job.id, input: job.input, budgetMs: this.options.budgetMs });
  }

  /** The job's deadline: its budget and grace from now, plus time to boot if its worker has not yet. */
  private arm(slot: Slot<I, O>, job: Job<I, O>) {
    clearTimeout(job.timer);
    const ms = this.options.budgetMs + this.options.graceMs + (slot.ready ? 0 : BOOT_ALLOWANCE_MS);
    job.timer = setTimeout(() => void this.retire(slot, this.overBudget()), ms);
  }

  private overBudget(): PoolRefusal {
    return new PoolRefusal('time', `the query did not finish within its ${this.options.budgetMs / 1000} s budget`, this.budgetSeconds);
  }

  private get budgetSeconds(): number {
    return Math.ceil(this.options.budgetMs / 1000);
  }

  private answered(slot: Slot<I, O>, reply: Reply<O>) {
    const job = slot.job;
    if (!job || job.id !== reply.id) return;
    slot.job = undefined;
    if (reply.ok) this.settle(job, undefined, reply.output);
    else if (reply.error.name === 'TimeoutError') this.settle(job, this.overBudget());
    else this.settle(job, new PoolRefusal('failed', `the query failed: ${reply.error.message}`));
    this.next(slot);
  }

  private next(slot: Slot<I, O> | undefined) {
    const job = this.waiting.shift();
    if (!job) {
      slot?.worker.unref();
      return;
    }
    this.dispatch(slot ?? this.spawn(), job);
  }

  private settle(job: Job<I, O>, error: Error | undefined, output?: O) {
    clearTimeout(job.timer);
    job.signal?.removeEventListener('abort', job.onAbort);
    if (error) job.reject(error);
    else job.resolve(output as O);
  }

  private cancel(job: Job<I, O>) {
    const queued = this.waiting.indexOf(job);
    if (queued >= 0) {
      this.waiting.splice(queued, 1);
      return this.settle(job, new PoolRefusal('cancelled', 'the request was cancelled'));
    }
    const slot = [...this.slots].find((s) => s.job === job);
    if (slot) void this.retire(slot, new PoolRefusal('cancelled', 'the request was cancelled'));
  }

  /** Stops a worker (over budget, failed, cancelled, closing): its job fails with `error`; a new worker takes the queue. */
  private async retire(slot: Slot<I, O>, error: PoolRefusal): Promise<void> {
    if (!this.slots.delete(slot)) return;
    const job = slot.job;
    slot.job = undefined;
    if (job) this.settle(job, error);
    slot.worker.removeAllListeners('message');
    if (!this.closed && this.waiting.length) this.next(undefined);
    await slot.worker.terminate();
  }
}

/** The worker side: answers each job with `handler(input, signal)`, the signal firing at the job's budget. */
export function serveWorkerJobs<I, O>(handler: (input: I, signal: AbortSignal) => Promise<O>): void {
  if (!parentPort) throw new Error('serveWorkerJobs runs inside a worker thread');
  const port = parentPort;
  port.postMessage(READY);
  port.on('message', (message: { id: number; input: I; budgetMs: number }) => {
    const signal = AbortSignal.timeout(message.budgetMs);
    handler(message.input, signal).then(
      (output) => port.postMessage({ id: message.id, ok: true, output }),
      (error: unknown) => {
        const { name, message: text } = error instanceof Error || error instanceof DOMException ? error : new Error(String(error));
        port.postMessage({ id: message.id, ok: false, error: { name: signal.aborted ? 'TimeoutError' : name, message: text } });
      },
    );
  });
}
