/**
 * `irlab policy check|eval|live`: the audit-policy evaluator for learners and instructors.
 * Tables and results go to stdout; refusals, warnings and usage errors to stderr.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { POLICY_USAGE } from '../cli/usage.ts';
import { checkPolicyText } from '../../lib/audit-policy/check.ts';
import { describeRequest, ruleRef } from '../../lib/audit-policy/describe.ts';
import { evaluatePolicy } from '../../lib/audit-policy/evaluate.ts';
import { KNOWN_VERBS } from '../../lib/audit-policy/known-resources.ts';
import { authenticatedGroups } from '../../lib/audit-policy/request-info.ts';
import { atLeast, type AuditPolicy, type RequestAttributes } from '../../lib/audit-policy/types.ts';
import { loadPolicy } from '../../lib/audit-policy/validate.ts';
import { findCluster } from '../cluster/find-cluster.ts';
import { formatClusterError, type ClusterProvider } from '../cluster/types.ts';
import { formatCriteria, formatPolicyProblems, formatTable } from './format.ts';

export interface PolicyIo {
  out: (text: string) => void;
  err: (text: string) => void;
  providers?: () => ClusterProvider[];
}

const defaultIo: PolicyIo = { out: (t) => process.stdout.write(`${t}\n`), err: (t) => process.stderr.write(`${t}\n`) };

export { POLICY_USAGE } from '../cli/usage.ts';

export async function policyCommand(args: string[], io: PolicyIo = defaultIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'check') return check(rest, io);
  if (sub === 'eval') return evalOne(rest, io);
  if (sub === 'live') return live(rest, io);
  (sub === undefined || sub === 'help' ? io.out : io.err)(`usage:\n${POLICY_USAGE}`);
  return sub === undefined || sub === 'help' ? 0 : 2;
}

async function readPolicy(file: string | undefined, io: PolicyIo): Promise<string | undefined> {
  if (!file) {
    io.err(`irlab policy: name the policy file\n\nusage:\n${POLICY_USAGE}`);
    return undefined;
  }
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    io.err(`irlab policy: cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
    return undefined;
  }
}

function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>, io: PolicyIo) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    io.err(`irlab policy: ${(error as Error).message}\n\nusage:\n${POLICY_USAGE}`);
    return undefined;
  }
}

async function check(args: string[], io: PolicyIo): Promise<number> {
  const parsed = parse(args, { json: { type: 'boolean', default: false } }, io);
  if (!parsed) return 2;
  const file = parsed.positionals[0];
  const text = await readPolicy(file, io);
  if (text === undefined) return 2;
  const { loaded, result, rows } = checkPolicyText(text);
  if (parsed.values['json']) {
    const table = rows.map((r) => ({ id: r.request.id, request: r.request.describe, user: r.outcome.user, level: r.decision.level, rule: r.decision.rule, omitStages: r.decision.omitStages, ...(r.passed === undefined ? {} : { passed: r.passed }) }));
    io.out(JSON.stringify({ ...result, errors: loaded.errors, warnings: loaded.warnings, table }, null, 2));
    return result.passed ? 0 : 1;
  }
  const problems = formatPolicyProblems(file!, loaded.errors, loaded.warnings);
  if (problems) io.err(`${problems}\n`);
  if (!loaded.policy) return 1;
  const policy = loaded.policy;
  io.out(
    formatTable(
      rows.map((r) => ({ request: r.request, user: r.outcome.user, level: r.decision.level, rule: ruleText(policy, r.decision.rule), ...(r.passed === undefined ? {} : { passed: r.passed }) })),
    ),
  );
  io.out(`\n${formatCriteria(result)}`);
  return result.passed ? 0 : 1;
}

function ruleText(policy: AuditPolicy, rule: number | null | undefined): string {
  if (rule === undefined) return '';
  return rule === null ? 'no rule matches' : ruleRef(policy, rule);
}

const EVAL_OPTIONS = {
  verb: { type: 'string' },
  resource: { type: 'string' },
  path: { type: 'string' },
  'api-group': { type: 'string', default: '' },
  namespace: { type: 'string', default: '' },
  name: { type: 'string', default: '' },
  user: { type: 'string', default: '' },
  group: { type: 'string', multiple: true, default: [] as string[] },
  json: { type: 'boolean', default: false },
} as const;

async function evalOne(args: string[], io: PolicyIo): Promise<number> {
  const parsed = parse(args, EVAL_OPTIONS, io);
  if (!parsed) return 2;
  const v = parsed.values as { verb?: string; resource?: string; path?: string; 'api-group': string; namespace: string; name: string; user: string; group: string[]; json: boolean };
  const usage = (message: string) => {
    io.err(`irlab policy eval: ${message}\n\nusage:\n${POLICY_USAGE}`);
    return 2;
  };
  if (!v.verb) return usage('--verb is required (get, list, watch, create, update, patch, delete, deletecollection; for --path the lowercase HTTP method)');
  if ((v.resource === undefined) === (v.path === undefined)) return usage('give exactly one of --resource (a resource request) or --path (a non-resource URL such as /healthz)');
  if (v.path !== undefined && !v.path.startsWith('/')) return usage(`--path ${v.path}: a non-resource URL starts with "/"`);
  const text = await readPolicy(parsed.positionals[0], io);
  if (text === undefined) return 2;
  const loaded = loadPolicy(text);
  const problems = formatPolicyProblems(parsed.positionals[0]!, loaded.errors, loaded.warnings);
  if (problems) io.err(`${problems}\n`);
  if (!loaded.policy) return 1;

  const notes: string[] = [];
  if (!(KNOWN_VERBS as readonly string[]).includes(v.verb)) notes.push(`"${v.verb}" is not a verb the API server puts on a request`);
  const attributes = requestFromFlags(v, notes);
  const decision = evaluatePolicy(loaded.policy, attributes);
  if (v.json) {
    io.out(JSON.stringify({ level: decision.level, rule: decision.rule, omitStages: decision.omitStages }));
    return 0;
  }
  const who = attributes.user ? `user ${attributes.user}` : 'a user no rule names';
  io.out(`${describeRequest(attributes)}, as ${who} (groups: ${attributes.groups.join(', ') || 'none'})`);
  io.out(`level:             ${decision.level}`);
  io.out(`rule:              ${decision.rule === null ? 'no rule matches (the default level is None)' : ruleRef(loaded.policy, decision.rule)}`);
  io.out(`omitStages:        ${decision.omitStages.join(', ') || 'none'}`);
  io.out(`omitManagedFields: ${decision.omitManagedFields}`);
  for (const note of notes) io.out(`note: ${note}`);
  return 0;
}

function requestFromFlags(
  v: { verb?: string; resource?: string; path?: string; 'api-group': string; namespace: string; name: string; user: string; group: string[] },
  notes: string[],
): RequestAttributes {
  // The API server adds system:authenticated (and a service account's groups) to every authenticated user.
  const groups = authenticatedGroups(v.user, v.group);
  const base = { user: v.user, groups, verb: v.verb!, apiGroup: '', resource: '', subresource: '', namespace: '', name: '' };
  if (v.path !== undefined) return { ...base, resourceRequest: false, path: v.path };
  const [resource = '', subresource = ''] = v.resource!.split('/', 2);
  let namespace = v.namespace;
  if (resource === 'namespaces' && v['api-group'] === '' && v.name && namespace !== v.name) {
    // /api/v1/namespaces/NAME: RequestInfo takes the namespace from the path, so it is NAME.
    notes.push(`a request for namespace "${v.name}" has namespace "${v.name}" (not "${namespace}"): that is what the API server matches against namespaces:`);
    namespace = v.name;
  }
  if (v['api-group'] === '' && ['deployments', 'daemonsets', 'statefulsets', 'replicasets', 'roles', 'rolebindings', 'clusterroles', 'clusterrolebindings', 'jobs', 'cronjobs'].includes(resource)) {
    notes.push(`${resource} are not in the core group: pass --api-group (e.g. apps, batch, rbac.authorization.k8s.io)`);
  }
  return { ...base, resourceRequest: true, apiGroup: v['api-group'], resource, subresource, namespace, name: v.name, path: '' };
}

async function live(args: string[], io: PolicyIo): Promise<number> {
  const parsed = parse(args, { json: { type: 'boolean', default: false } }, io);
  if (!parsed) return 2;
  const [clusterName, file] = parsed.positionals;
  if (!clusterName) {
    io.err(`irlab policy live: name the cluster\n\nusage:\n${POLICY_USAGE}`);
    return 2;
  }
  try {
    // Loaded here: the cluster code brings the Kubernetes client, which `check` and `eval` skip.
    const [{ allProviders }, { liveCheckAuditPolicy }] = await Promise.all([import('../cluster/select-provider.ts'), import('./live-check.ts')]);
    const providers = (io.providers ?? (() => allProviders()))();
    const cluster = await findCluster(providers, clusterName);
    const provider = providers.find((p) => p.name === cluster.provider)!;
    let policyText: string | undefined;
    if (file) {
      policyText = await readPolicy(file, io);
      if (policyText === undefined) return 2;
      const loaded = loadPolicy(policyText);
      if (!loaded.policy) {
        io.err(formatPolicyProblems(file, loaded.errors, loaded.warnings));
        return 1;
      }
      io.err(`applying ${file} to ${clusterName} (restarts its API server)...`);
      await provider.setAuditPolicy(clusterName, file);
    }
    io.err('replaying the canonical requests...');
    const check = await liveCheckAuditPolicy({ cluster, provider, ...(policyText === undefined ? {} : { policyText }) });
    if (parsed.values['json']) {
      io.out(JSON.stringify({ ...check.result, probes: check.probes.map((p) => ({ id: p.request.id, status: p.status, auditId: p.auditId, level: p.level, stages: p.stages })) }, null, 2));
      return check.result.passed ? 0 : 1;
    }
    const policy = policyText === undefined ? undefined : loadPolicy(policyText).policy;
    io.out(
      formatTable(
        check.probes.map((p) => ({
          request: p.request,
          user: check.identities[p.request.as].user,
          level: p.level,
          rule: policy && p.predicted ? ruleText(policy, p.predicted.rule) : '',
          stages: p.stages.join(',') || 'none',
          ...(p.request.minimum ? { passed: atLeast(p.level, p.request.minimum) } : {}),
        })),
        true,
      ),
    );
    io.out(`\n${formatCriteria(check.result)}`);
    io.out(`\nprobes as ${check.identities.serviceAccount.user} and ${check.identities.admin.user}: ${check.timings.probesMs} ms; whole check ${check.timings.totalMs} ms`);
    for (const d of check.disagreements) io.err(`irlab's evaluator predicted ${d.predicted!.level} for ${d.request.describe}, the API server recorded ${d.level}: please report this`);
    return check.result.passed ? 0 : 1;
  } catch (error) {
    io.err(`irlab policy live: ${formatClusterError(error)}`);
    return 1;
  }
}
