/**
 * Reads `scenarios/<slug>/scenario.yaml` and checks everything that can be checked without a
 * cluster: the schema, every manifest's kind and fields, identities named by steps, params named
 * by placeholders, and the files the compromised pod needs. All problems at once.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { RUNTIME_PLACEHOLDERS, scenarioSchema, type Scenario } from '../../schemas/scenario.ts';
import {
  formatPath, locate, nearest, parseLocatedYaml, problemsFromZod, yamlSyntaxProblems,
  type ContentProblem, type LocatedYaml,
} from '../content/friendly-errors.ts';
import { KINDS, KIND_NAMES, METADATA_FIELDS } from './kinds.ts';
import { placeholders } from './template.ts';

export const SCENARIOS_DIR = 'scenarios';
export const SCENARIO_FILE = 'scenario.yaml';

export interface LoadedScenario {
  slug: string;
  /** Absolute directory of the scenario. */
  dir: string;
  file: string;
  scenario: Scenario;
}

export async function listScenarioDirs(root: string): Promise<string[]> {
  const entries = await readdir(path.resolve(root, SCENARIOS_DIR), { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith('_')).map((e) => path.join(SCENARIOS_DIR, e.name)).sort();
}

async function exists(file: string, kind: 'file' | 'dir'): Promise<boolean> {
  const info = await stat(file).catch(() => undefined);
  return kind === 'file' ? Boolean(info?.isFile()) : Boolean(info?.isDirectory());
}

type Problem = (path: PropertyKey[], message: string, hint?: string) => void;

function checkManifest(manifest: Record<string, unknown>, at: PropertyKey[], problem: Problem) {
  const kind = manifest.kind;
  if (typeof kind !== 'string') return problem([...at, 'kind'], 'a manifest needs a kind', `one of ${KIND_NAMES.join(', ')}`);
  const info = KINDS[kind];
  if (!info) {
    const guess = nearest(kind, KIND_NAMES);
    return problem([...at, 'kind'], `unknown kind "${kind}"`, guess.length ? `did you mean "${guess[0]}"?` : `scenarios may use ${KIND_NAMES.join(', ')}`);
  }
  if (manifest.apiVersion !== info.apiVersion) {
    problem([...at, 'apiVersion'], `${kind} is apiVersion "${info.apiVersion}", not ${JSON.stringify(manifest.apiVersion)}`, `write apiVersion: ${info.apiVersion}`);
  }
  const unknownKeys = (object: Record<string, unknown>, allowed: readonly string[], where: PropertyKey[]) => {
    for (const key of Object.keys(object)) {
      if (allowed.includes(key)) continue;
      const guess = nearest(key, allowed);
      problem([...where, key], `unknown field "${key}" in ${kind}`, guess.length ? `did you mean "${guess[0]}"?` : `allowed: ${allowed.join(', ')}`);
    }
  };
  unknownKeys(manifest, ['apiVersion', 'kind', 'metadata', ...info.fields], at);
  const metadata = manifest.metadata as Record<string, unknown> | undefined;
  if (!metadata || typeof metadata !== 'object') return problem([...at, 'metadata'], `${kind} needs metadata with a name`);
  unknownKeys(metadata, METADATA_FIELDS, [...at, 'metadata']);
  if (typeof metadata.name !== 'string') problem([...at, 'metadata', 'name'], `${kind} needs metadata.name`);
  if (info.namespaced && typeof metadata.namespace !== 'string') {
    problem([...at, 'metadata', 'namespace'], `${kind} is namespaced: give metadata.namespace`);
  }
  if (!info.namespaced && metadata.namespace !== undefined) {
    problem([...at, 'metadata', 'namespace'], `${kind} is cluster-scoped and takes no namespace`, 'remove metadata.namespace');
  }
  const spec = manifest.spec as Record<string, unknown> | undefined;
  if (info.specFields && spec && typeof spec === 'object') unknownKeys(spec, info.specFields, [...at, 'spec']);
}

/** Namespace/name of every object of a kind in the world, for cross-references. */
function worldNames(scenario: Scenario, kind: string): Set<string> {
  return new Set(
    scenario.world
      .filter((m) => m.kind === kind)
      .map((m) => {
        const meta = (m.metadata ?? {}) as { name?: string; namespace?: string };
        return meta.namespace ? `${meta.namespace}/${meta.name}` : String(meta.name);
      }),
  );
}

async function crossCheck(loaded: LoadedScenario, problem: Problem) {
  const { scenario, dir } = loaded;
  scenario.world.forEach((manifest, index) => checkManifest(manifest, ['world', index], problem));

  const identities = Object.keys(scenario.identities);
  const serviceAccounts = worldNames(scenario, 'ServiceAccount');
  const secrets = new Map<string, Record<string, unknown>>(
    scenario.world.filter((m) => m.kind === 'Secret').map((m) => {
      const meta = m.metadata as { name?: string; namespace?: string };
      return [`${meta.namespace}/${meta.name}`, m];
    }),
  );
  for (const [name, identity] of Object.entries(scenario.identities)) {
    if (identity.serviceAccount && !identity.serviceAccount.endsWith('/default') && !serviceAccounts.has(identity.serviceAccount)) {
      problem(['identities', name, 'serviceAccount'], `no ServiceAccount ${identity.serviceAccount} in world`, 'add it to world or fix the name');
    }
    if (identity.secretToken) {
      const secret = secrets.get(identity.secretToken);
      if (!secret) problem(['identities', name, 'secretToken'], `no Secret ${identity.secretToken} in world`, 'add a Secret of type kubernetes.io/service-account-token');
      else if (secret.type !== 'kubernetes.io/service-account-token') {
        problem(['identities', name, 'secretToken'], `Secret ${identity.secretToken} is not of type kubernetes.io/service-account-token`);
      }
    }
  }

  const params = scenario.params;
  const declared = [...Object.keys(params), ...Object.keys(scenario.targets), ...RUNTIME_PLACEHOLDERS];
  const known = new Set([...declared, 'item']);
  const checkPlaceholders = (value: unknown, at: PropertyKey[], extra: string[] = []) => {
    for (const name of placeholders(value)) {
      if (known.has(name) && (name !== 'item' || extra.includes('item'))) continue;
      const guess = nearest(name, [...declared, ...extra]);
      problem(at, `unknown placeholder {{ ${name} }}`, guess.length ? `did you mean {{ ${guess[0]} }}?` : 'declare it under params');
    }
  };
  checkPlaceholders(scenario.world, ['world']);
  checkPlaceholders(scenario.compromisedPod, ['compromisedPod']);

  scenario.timeline.forEach((step, index) => {
    const at = ['timeline', index];
    if (!identities.includes(step.as)) {
      const guess = nearest(step.as, identities);
      problem([...at, 'as'], `no identity "${step.as}"`, guess.length ? `did you mean "${guess[0]}"?` : `identities: ${identities.join(', ')}`);
    }
    if (step.forEach !== undefined) {
      const param = params[step.forEach];
      if (!param?.sample) problem([...at, 'forEach'], `forEach needs a sample param, "${step.forEach}" is not one`, 'declare it as { sample: [...], count: N }');
    }
    if (step.from !== 'pod') checkPlaceholders(step.from, [...at, 'from'], step.forEach ? ['item'] : []);
    checkPlaceholders(step.request, [...at, 'request'], step.forEach ? ['item'] : []);
    if (step.request.path !== undefined) {
      // A non-resource URL (discovery): a plain GET, nothing else to say about it.
      if (step.request.verb !== 'get' || step.request.kind || step.request.apiVersion) {
        problem([...at, 'request'], 'a request with a path is a GET of a non-resource URL', 'write verb: get and leave out apiVersion and kind');
      }
      if (step.malicious && !step.signal && !step.note) problem([...at], 'a malicious step needs a signal or a note saying what it does');
      return;
    }
    const kind = KINDS[step.request.kind];
    if (!kind) {
      const guess = nearest(step.request.kind, KIND_NAMES);
      problem([...at, 'request', 'kind'], `unknown kind "${step.request.kind}"`, guess.length ? `did you mean "${guess[0]}"?` : undefined);
    } else if (kind.apiVersion !== step.request.apiVersion) {
      problem([...at, 'request', 'apiVersion'], `${step.request.kind} is apiVersion "${kind.apiVersion}"`);
    }
    const needsName = ['get', 'patch', 'delete', 'exec'].includes(step.request.verb);
    if (needsName && !step.request.name) problem([...at, 'request', 'name'], `${step.request.verb} needs a name`);
    if (step.request.verb === 'exec' && (step.request.kind !== 'Pod' || !step.request.command)) {
      problem([...at, 'request'], 'exec runs a command in a Pod', 'set kind: Pod and command: [...]');
    }
    if (['create', 'patch'].includes(step.request.verb) && !step.request.body) problem([...at, 'request', 'body'], `${step.request.verb} needs a body`);
    if (step.malicious && !step.signal && !step.note) problem([...at], 'a malicious step needs a signal or a note saying what it does');
  });

  const pod = scenario.compromisedPod;
  if (!(await exists(path.join(dir, pod.files), 'dir'))) {
    problem(['compromisedPod', 'files'], `directory ${path.join(path.basename(dir), pod.files)} is missing`, 'create it with the files the pod should hold');
  }
  if (!(await exists(path.join(dir, pod.logs), 'file'))) {
    problem(['compromisedPod', 'logs'], `file ${path.join(path.basename(dir), pod.logs)} is missing`, 'create it with the container log lines');
  }
  if (pod.nodeFiles !== undefined && !(await exists(path.join(dir, pod.nodeFiles), 'dir'))) {
    problem(['compromisedPod', 'nodeFiles'], `directory ${path.join(path.basename(dir), pod.nodeFiles)} is missing`, 'create it with the files the attacker left on the node, at their paths under /');
  }
  const escapes = [pod.files, pod.logs, ...(pod.nodeFiles === undefined ? [] : [pod.nodeFiles])].filter((p) => path.isAbsolute(p) || path.normalize(p).startsWith('..'));
  for (const p of escapes) problem(['compromisedPod'], `path ${p} leaves the scenario directory`, 'use a path inside the scenario directory');
}

export async function loadScenario(root: string, relativeDir: string) {
  const file = path.join(relativeDir, SCENARIO_FILE);
  const dir = path.resolve(root, relativeDir);
  const problems: ContentProblem[] = [];
  const text = await readFile(path.join(dir, SCENARIO_FILE), 'utf8').catch(() => undefined);
  if (text === undefined) {
    problems.push({ file, path: '', message: `missing ${SCENARIO_FILE}`, hint: `every scenario directory holds a ${SCENARIO_FILE}` });
    return { problems };
  }
  const located: LocatedYaml = parseLocatedYaml(text);
  const syntax = yamlSyntaxProblems(file, located);
  if (syntax.length) return { problems: syntax };
  const result = scenarioSchema.safeParse(located.doc.toJS() ?? {}, { reportInput: true });
  if (!result.success) return { problems: problemsFromZod(file, scenarioSchema, result.error.issues, located) };
  const loaded: LoadedScenario = { slug: path.basename(relativeDir), dir, file, scenario: result.data };
  await crossCheck(loaded, (at, message, hint) =>
    problems.push({ file, ...locate(located, at), path: formatPath(at), message, ...(hint ? { hint } : {}) }),
  );
  return problems.length ? { problems } : { problems, loaded };
}

export async function validateScenarios(root: string) {
  const problems: ContentProblem[] = [];
  const scenarios: LoadedScenario[] = [];
  for (const dir of await listScenarioDirs(root)) {
    const result = await loadScenario(root, dir);
    problems.push(...result.problems);
    if (result.loaded) scenarios.push(result.loaded);
  }
  return { scenarios, problems };
}
