/** One part of a file scanned in parts (see parallel-scan.ts), in its own thread. */
import { parentPort, workerData } from 'node:worker_threads';
import { scanPart, type PartJob } from './parallel-scan.ts';

parentPort!.postMessage(await scanPart(workerData as PartJob));
