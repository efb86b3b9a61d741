// The kind project's engine: irlab's own dockerd is started by the first create when no engine
// answers, and the provider stops it with the last cluster. A run that fails half-way may leave it
// up; this stops it after the run when it was not running before (someone else's is never touched).
import { ourEngineAnswers, stopOurEngine } from '../../src/server/cluster/kind-engine.ts';
import { nodeRunner } from '../../src/server/cluster/runtime.ts';

export default async function setup(): Promise<() => Promise<void>> {
  const runningBefore = await ourEngineAnswers(nodeRunner, process.env);
  return async () => {
    if (!runningBefore && (await ourEngineAnswers(nodeRunner, process.env))) await stopOurEngine(nodeRunner, process.env);
  };
}
