/**
 * A worker for worker-pool.test.ts: `spin` busy-waits without ever looking at its signal (a
 * worker stuck in synchronous code), `hog` allocates until the memory limit, `value` answers.
 */
import { serveWorkerJobs } from './worker-pool.ts';

export type FixtureJob = { spinMs: number } | { hog: true } | { value: string } | { throw: string };

serveWorkerJobs<FixtureJob, string>(async (job) => {
  if ('spinMs' in job) {
    const until = Date.now() + job.spinMs;
    while (Date.now() < until);
    return 'spun';
  }
  if ('hog' in job) {
    const kept: number[][] = [];
    for (;;) kept.push(Array.from({ length: 100_000 }, (_, i) => i));
  }
  if ('throw' in job) throw new Error(job.throw);
  return `${job.value} from ${process.pid}`;
});
