/**
 * A lab's node evidence (POST /api/labs/<slug>/node-evidence): the server collects from the
 * run's kind node what the learner asks for, from the allow-list in cluster/node-evidence.ts,
 * and writes it under `node-evidence/` in their workspace. Bad input is a 4xx with the reason.
 */
import { brandStatus } from '../../lib/error-status.ts';
import { kindNodeOf } from '../cluster/kind-workloads.ts';
import { collect, NODE_EVIDENCE_TIMEOUT_MS, planCollection, spawnExec, type CollectionPlan, type NodeExec } from '../cluster/node-evidence.ts';
import { capabilitiesOf, type ClusterInfo } from '../cluster/types.ts';
import { writeWorkspaceFile, WorkspaceWriteError } from './workspace-write.ts';

/** Where collections land in the workspace. */
export const NODE_EVIDENCE_DIR = 'node-evidence';

export interface NodeEvidenceView {
  collection: string;
  /** The file written, relative to the workspace. */
  file: string;
  bytes: number;
  truncated: boolean;
  /** 0, or the exit code of the node command that failed (its message in `error`; the file holds what it printed). */
  exitCode: number;
  error?: string;
}

function failure(message: string, status: number): Error {
  const error = new Error(message);
  error.name = 'NodeEvidenceError';
  brandStatus(error, status);
  return error;
}

/**
 * The request checked against the allow-list (cluster/node-evidence.ts), or a 400 with the
 * reason: first, so that a bad request says what is wrong with it whether or not a lab runs.
 */
export function planNodeEvidence(request: { collection: unknown; args: unknown }): CollectionPlan {
  const planned = planCollection(request.collection, request.args);
  if (!planned.ok) throw failure(`node evidence: ${planned.reason}`, 400);
  return planned.plan;
}

export async function collectNodeEvidence(
  cluster: ClusterInfo,
  workspace: string,
  request: { collection: unknown; args: unknown },
  signal: AbortSignal,
  exec: NodeExec = spawnExec,
): Promise<NodeEvidenceView> {
  const plan = planNodeEvidence(request);
  if (!capabilitiesOf(cluster).realContainers) throw failure('node evidence needs a real node: this lab\'s cluster runs on the embedded engine, whose pods are simulated', 409);
  const node = await kindNodeOf(cluster);
  const within = AbortSignal.any([signal, AbortSignal.timeout(NODE_EVIDENCE_TIMEOUT_MS)]);
  const result = await collect({ engine: node.engine.engine, env: node.engine.env, container: node.container }, plan, within, exec).catch((error: unknown) => {
    if (within.aborted && !signal.aborted) throw failure(`node evidence: ${plan.collection} took longer than ${NODE_EVIDENCE_TIMEOUT_MS / 1000} s on the node; try again`, 504);
    throw error;
  });
  try {
    await writeWorkspaceFile(workspace, NODE_EVIDENCE_DIR, result.file, result.content, signal);
  } catch (error) {
    if (error instanceof WorkspaceWriteError) throw failure(error.message, 409);
    throw error;
  }
  return {
    collection: plan.collection,
    file: `${NODE_EVIDENCE_DIR}/${result.file}`,
    bytes: result.content.length,
    truncated: result.truncated,
    exitCode: result.exitCode,
    ...(result.error ? { error: result.error } : {}),
  };
}
