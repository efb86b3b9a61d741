// The entry of a query worker thread (see parallel-scan.ts). Plain JavaScript so that it can turn
// on Node's compile cache before the TypeScript modules load: a warm worker then starts in a few
// milliseconds of CPU instead of loading the TypeScript stripper again (about 150 ms).
import module from 'node:module';

module.enableCompileCache?.();
await import('./parallel-scan-worker.ts');
