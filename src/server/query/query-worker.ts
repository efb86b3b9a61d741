/**
 * The query pool's worker thread (see query-pool.ts): runs query jobs off the server's event loop.
 * Loaded by path from the source tree, also when the server runs Astro's built bundle.
 */
import { runQueryJob, type QueryAnswer, type QueryJob } from './query-job.ts';
import { serveWorkerJobs } from './worker-pool.ts';

serveWorkerJobs<QueryJob, QueryAnswer>((job, signal) => runQueryJob(job, signal));
