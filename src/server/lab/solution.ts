/**
 * The reference solution's placeholders, `{{ key.path }}`, filled from a learner's answer key:
 * the same lab file solves every learner's randomized incident. Authoring tools only; never
 * rendered into a page.
 */
import type { AnswerKey } from '../scenarios/answer-key.ts';

/** The key plus a few facts derived for solutions (lists in the form commands want them). */
export function solutionFacts(key: AnswerKey): Record<string, unknown> {
  return {
    ...key,
    secretsReadNamed: key.secretsRead.filter((s) => !s.endsWith('/*')).join(', '),
    reachableSecretRefs: key.reachableSecrets.map((s) => `${s.namespace}/${s.name}`).join(' '),
    execCommand: key.execs[0]?.command.at(-1) ?? '',
    // The first exec's whole argv as a shell line (`nsenter -t 1 -m ... -- sh`).
    execLine: key.execs[0]?.command.join(' ') ?? '',
    // The scope step's answers and the secrets eradication rotates (token Secrets are revoked, not rotated).
    scopeIdentities: (key.scope?.identities ?? []).join(', '),
    stolenSecretRefs: (key.tokenCredentials ?? []).map((c) => c.secret).join(', '),
    scopeReach: Object.entries(key.scope?.reach ?? {}).map(([identity, refs]) => `${identity}: ${refs.join(', ')}`).join('; '),
    rotatableSecretRefs: (key.scope?.secrets ?? [])
      .filter((s) => s.type !== 'kubernetes.io/service-account-token' && Object.values(key.scope?.reach ?? {}).some((refs) => refs.includes(`${s.namespace}/${s.name}`)))
      .map((s) => `${s.namespace}/${s.name}`)
      .join(' '),
  };
}

export function fillSolution(text: string, key: AnswerKey): string {
  const facts = solutionFacts(key);
  return text.replace(/\{\{\s*key\.([A-Za-z0-9_.]+)\s*\}\}/g, (whole, dotted: string) => {
    let value: unknown = facts;
    for (const part of dotted.split('.')) value = (value as Record<string, unknown> | undefined)?.[part];
    if (value === undefined || value === null) throw new Error(`the answer key has no ${dotted} (in ${whole})`);
    return Array.isArray(value) ? value.join(', ') : String(value);
  });
}

/** A solution line that stands for the lab panel's "Apply audit-policy.yaml" button. */
export const APPLY_POLICY_COMMAND = 'irlab-apply-audit-policy';

/** A solution line `irlab-node-evidence <collection> [args...]`: what POST .../node-evidence does. */
export const NODE_EVIDENCE_COMMAND = 'irlab-node-evidence';

export interface SolutionRun {
  command: string;
  exitCode: number;
  output: string;
}

/**
 * Runs a step's reference solution the way a learner would type it: bash in the workspace, with
 * KUBECONFIG pointing at the lab cluster and the engine's kubectl first on PATH.
 */
export async function runSolution(
  commands: readonly string[],
  key: AnswerKey,
  env: {
    workspace: string;
    kubeconfig: string;
    binDir: string;
    timeoutMs?: number;
    /** `irlab-apply-audit-policy`: what the lab panel's Apply button does, for solutions. */
    applyPolicy?: () => Promise<void>;
    /** `irlab-node-evidence`: the lab's node-evidence collection, for solutions (kind labs). */
    nodeEvidence?: (collection: string, args: string[]) => Promise<unknown>;
  },
): Promise<SolutionRun[]> {
  const { spawn } = await import('node:child_process');
  const runs: SolutionRun[] = [];
  for (const template of commands) {
    const command = fillSolution(template, key);
    if (command.trim() === APPLY_POLICY_COMMAND) {
      const applied = await (env.applyPolicy ?? (() => Promise.reject(new Error('no lab service to apply the policy with'))))().then(
        () => ({ command, exitCode: 0, output: 'applied' }),
        (error: unknown) => ({ command, exitCode: 1, output: error instanceof Error ? error.message : String(error) }),
      );
      runs.push(applied);
      if (applied.exitCode !== 0) break;
      continue;
    }
    const words = command.trim().split(/\s+/);
    if (words[0] === NODE_EVIDENCE_COMMAND) {
      const collected = await (env.nodeEvidence ?? (() => Promise.reject(new Error('no lab service to collect node evidence with'))))(words[1] ?? '', words.slice(2)).then(
        (view) => ({ command, exitCode: 0, output: JSON.stringify(view) }),
        (error: unknown) => ({ command, exitCode: 1, output: error instanceof Error ? error.message : String(error) }),
      );
      runs.push(collected);
      if (collected.exitCode !== 0) break;
      continue;
    }
    const result = await new Promise<SolutionRun>((resolve) => {
      const child = spawn('bash', ['-c', command], {
        cwd: env.workspace,
        env: { PATH: `${env.binDir}:/usr/local/bin:/usr/bin:/bin`, HOME: env.workspace, KUBECONFIG: env.kubeconfig, LANG: 'C.UTF-8' },
        timeout: env.timeoutMs ?? 60_000,
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      child.on('close', (code) => resolve({ command, exitCode: code ?? 1, output }));
    });
    runs.push(result);
    if (result.exitCode !== 0) break;
  }
  return runs;
}
