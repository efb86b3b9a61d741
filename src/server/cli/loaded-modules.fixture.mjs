// Loaded with `node --import` before bin/irlab.mjs by main.test.ts: prints, at exit, every module
// URL the process loaded (one per line, on stderr after a marker), so a test can check that a
// command did not load what it does not use.
import { registerHooks } from 'node:module';

const loaded = [];
registerHooks({
  load(url, context, nextLoad) {
    loaded.push(url);
    return nextLoad(url, context);
  },
});
process.on('exit', () => process.stderr.write(`\n--- loaded modules ---\n${loaded.join('\n')}\n`));
