/**
 * Reading an audit policy the way kube-apiserver does (k8s.io/apiserver pkg/audit/policy/reader.go):
 * YAML 1.1 (sigs.k8s.io/yaml) turned into JSON and decoded into typed Go structs. Decoding is
 * strict first and lenient on a strict-only failure, so unknown and duplicate fields are ignored
 * (reported here as warnings) while a value of the wrong JSON type refuses the whole file. Every
 * problem is collected, with its path and line, where the API server stops at the first.
 */
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { AuditLevel, AuditPolicy, AuditStage, GroupResources, PolicyProblem, PolicyRule } from './types.ts';
import { editDistance } from '../edit-distance.ts';
import { excerpt, quoted } from '../excerpt.ts';
import { yamlPosition } from '../yaml-position.ts';

type Path = readonly PropertyKey[];

export interface ParsedPolicy {
  /** The decoded policy, best effort (a value of the wrong type is left empty); absent when the document is not a mapping. */
  policy?: AuditPolicy;
  problems: PolicyProblem[];
  /** Turns a policy path into a file position; validation uses it for its own problems. */
  locate: Locator;
}

export type Locator = (path: Path, keyOnly?: boolean) => { line?: number; column?: number };

const POLICY_FIELDS = ['apiVersion', 'kind', 'metadata', 'rules', 'omitStages', 'omitManagedFields'];
const RULE_FIELDS = ['level', 'users', 'userGroups', 'verbs', 'resources', 'namespaces', 'nonResourceURLs', 'omitStages', 'omitManagedFields'];
const GROUP_RESOURCE_FIELDS = ['group', 'resources', 'resourceNames'];

export const noLocation: Locator = () => ({});

export function formatPolicyPath(path: Path): string {
  let out = '';
  for (const segment of path) {
    // Field names may be the learner's own (unknown fields): an excerpt, like every quoted value.
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out ? `.${excerpt(String(segment))}` : excerpt(String(segment));
  }
  return out;
}

/** The first line of a `yaml` error, which may quote the source (an alias, a tag): an excerpt. */
function yamlMessage(message: string): string {
  const first = message.split('\n')[0] ?? '';
  return excerpt(first, first.includes(':') ? first.indexOf(':') + 2 + 32 : 80);
}

/** Parses policy text (YAML or JSON) and decodes it; the problems include YAML syntax errors. */
export function parsePolicyText(text: string): ParsedPolicy {
  const lines = new LineCounter();
  const problems: PolicyProblem[] = [];
  let docs = parseAllDocuments(text, { version: '1.1', lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const atOffset = (offset: number) => {
    const pos = lines.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  if (!Array.isArray(docs)) docs = [];
  const first = docs[0] as Document | undefined;
  const duplicates = first?.errors.filter((e) => e.code === 'DUPLICATE_KEY') ?? [];
  for (const e of duplicates) {
    problems.push({
      severity: 'warning',
      path: '',
      ...atOffset(e.pos[0]),
      message: `duplicate key: ${yamlMessage(e.message)}`,
      hint: 'the API server keeps only the last of the two; delete the other',
    });
  }
  let doc = first;
  if (duplicates.length > 0) {
    // The API server's lenient pass keeps the last value of a duplicated key; so does `yaml` without uniqueKeys.
    const again = parseAllDocuments(text, { version: '1.1', lineCounter: new LineCounter(), prettyErrors: false, uniqueKeys: false });
    doc = (Array.isArray(again) ? again[0] : undefined) as Document | undefined;
  }
  const syntax = doc?.errors ?? [];
  for (const e of syntax) {
    problems.push({
      severity: 'error',
      path: '',
      ...atOffset(e.pos[0]),
      message: `YAML syntax: ${yamlMessage(e.message) || e.code}`,
      hint: 'check indentation and quoting on this line (strings with ": " or "#" need quotes)',
    });
  }
  if (docs.length > 1) {
    problems.push({
      severity: 'warning',
      path: '',
      ...atOffset(docs[1]!.range[0]),
      message: `the file holds ${docs.length} YAML documents; the API server reads only the first`,
      hint: 'keep the policy in one document (remove the extra "---")',
    });
  }
  const locate: Locator = doc ? (path, keyOnly) => yamlPosition(doc, lines, path, keyOnly) : noLocation;
  if (syntax.length > 0) return { problems, locate };
  let value: unknown;
  try {
    value = doc ? doc.toJS({ maxAliasCount: 1000 }) : null;
  } catch (error) {
    // An unresolved alias or an alias bomb: `yaml` throws (quoting the alias) rather than reporting.
    problems.push({ severity: 'error', path: '', message: `YAML: ${yamlMessage(error instanceof Error ? error.message : String(error))}`, hint: 'define each anchor (&name) before its alias (*name), and use aliases sparingly' });
    return { problems, locate };
  }
  const decoded = decodePolicy(value, locate);
  return { policy: decoded.policy, problems: [...problems, ...decoded.problems], locate };
}

/** Decodes an already-parsed policy object (e.g. JSON.parse output) with the API server's type rules. */
export function decodePolicy(value: unknown, locate: Locator = noLocation): { policy?: AuditPolicy; problems: PolicyProblem[] } {
  const d = new Decoder(locate);
  if (!isRecord(value)) {
    d.error([], value === null || value === undefined ? 'the file is empty' : `expected a mapping (an audit.k8s.io/v1 Policy), got ${describe(value)}`, 'start the file with apiVersion: audit.k8s.io/v1 and kind: Policy');
    return { problems: d.problems };
  }
  const apiVersion = value['apiVersion'];
  if (apiVersion !== 'audit.k8s.io/v1') {
    d.error(['apiVersion'], apiVersion === undefined ? 'apiVersion is missing' : `apiVersion ${describe(apiVersion)} is not served: only audit.k8s.io/v1 is`, 'write apiVersion: audit.k8s.io/v1 (v1alpha1 and v1beta1 were removed in Kubernetes 1.24)');
  }
  const kind = value['kind'];
  if (kind !== 'Policy') {
    d.error(['kind'], kind === undefined ? 'kind is missing' : `kind ${describe(kind)} is not a policy`, 'write kind: Policy');
  }
  d.unknownKeys(value, POLICY_FIELDS, []);
  if (value['metadata'] !== undefined && value['metadata'] !== null && !isRecord(value['metadata'])) {
    d.typeError(['metadata'], 'a mapping', value['metadata']);
  }
  const policy: AuditPolicy = {
    rules: [],
    omitStages: d.strings(value['omitStages'], ['omitStages']) as AuditStage[],
    omitManagedFields: d.bool(value['omitManagedFields'], ['omitManagedFields']) ?? false,
  };
  const rules = value['rules'];
  if (Array.isArray(rules)) {
    rules.forEach((rule, i) => {
      const decoded = decodeRule(d, rule, ['rules', i]);
      if (decoded) policy.rules.push(decoded);
    });
  } else if (rules !== undefined && rules !== null) {
    d.typeError(['rules'], 'a list of rules', rules);
  }
  // Best effort even after a type error, so validation can still report everything else at once.
  return { policy, problems: d.problems };
}

function decodeRule(d: Decoder, value: unknown, path: Path): PolicyRule | undefined {
  // A null list item decodes to a rule with every field empty (so: level missing).
  if (value === null) value = {};
  if (!isRecord(value)) {
    d.typeError(path, 'a mapping (a rule)', value);
    return undefined;
  }
  d.unknownKeys(value, RULE_FIELDS, path);
  const rule: PolicyRule = {
    level: d.string(value['level'], [...path, 'level']) as AuditLevel,
    users: d.strings(value['users'], [...path, 'users']),
    userGroups: d.strings(value['userGroups'], [...path, 'userGroups']),
    verbs: d.strings(value['verbs'], [...path, 'verbs']),
    resources: [],
    namespaces: d.strings(value['namespaces'], [...path, 'namespaces']),
    nonResourceURLs: d.strings(value['nonResourceURLs'], [...path, 'nonResourceURLs']),
    omitStages: d.strings(value['omitStages'], [...path, 'omitStages']) as AuditStage[],
  };
  const omit = d.bool(value['omitManagedFields'], [...path, 'omitManagedFields']);
  if (omit !== undefined) rule.omitManagedFields = omit;
  const line = d.locate(path).line;
  if (line !== undefined) rule.line = line;
  const resources = value['resources'];
  if (Array.isArray(resources)) {
    resources.forEach((gr, j) => {
      const decoded = decodeGroupResources(d, gr, [...path, 'resources', j]);
      if (decoded) rule.resources.push(decoded);
    });
  } else if (resources !== undefined && resources !== null) {
    d.typeError([...path, 'resources'], 'a list of {group, resources, resourceNames}', resources);
  }
  return rule;
}

function decodeGroupResources(d: Decoder, value: unknown, path: Path): GroupResources | undefined {
  if (value === null) value = {};
  if (!isRecord(value)) {
    d.typeError(path, 'a mapping with group, resources and resourceNames', value);
    return undefined;
  }
  d.unknownKeys(value, GROUP_RESOURCE_FIELDS, path);
  return {
    group: d.string(value['group'], [...path, 'group']),
    resources: d.strings(value['resources'], [...path, 'resources']),
    resourceNames: d.strings(value['resourceNames'], [...path, 'resourceNames']),
  };
}

class Decoder {
  readonly problems: PolicyProblem[] = [];
  readonly locate: Locator;

  constructor(locate: Locator) {
    this.locate = locate;
  }

  error(path: Path, message: string, hint?: string, keyOnly = false): void {
    this.problems.push({ severity: 'error', path: formatPolicyPath(path), ...this.locate(path, keyOnly), message, ...(hint ? { hint } : {}) });
  }

  typeError(path: Path, expected: string, got: unknown): void {
    const hint = typeof got === 'number' || typeof got === 'boolean'
      ? `quote it (${quoted(String(got))}): YAML reads it as a ${typeof got}, and the API server refuses a ${typeof got} here`
      : `write ${expected} here`;
    this.error(path, `expected ${expected}, got ${describe(got)}`, hint);
  }

  /** Go's JSON decoding into a string: null leaves "", anything but a string is refused. */
  string(value: unknown, path: Path): string {
    if (value === undefined || value === null) return '';
    if (typeof value === 'string') return value;
    if (value instanceof Date) {
      // YAML 1.1 reads 2024-01-31 as a timestamp; the API server's YAML-to-JSON step turns it back
      // into an RFC 3339 string (in UTC), so it is accepted, as that string.
      const text = value.toISOString().replace(/\.0+Z$/, 'Z').replace(/(\.\d*?)0+Z$/, '$1Z');
      this.problems.push({
        severity: 'warning',
        path: formatPolicyPath(path),
        ...this.locate(path),
        message: `YAML reads this as a timestamp; the API server sees the string "${text}"`,
        hint: 'quote it if you meant the text as written',
      });
      return text;
    }
    this.typeError(path, 'a string', value);
    return '';
  }

  strings(value: unknown, path: Path): string[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      const hint = typeof value === 'string' ? `write a list: [${quoted(value)}]` : undefined;
      this.error(path, `expected a list of strings, got ${describe(value)}`, hint);
      return [];
    }
    return value.map((item, i) => this.string(item, [...path, i]));
  }

  bool(value: unknown, path: Path): boolean | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'boolean') return value;
    this.typeError(path, 'true or false', value);
    return undefined;
  }

  unknownKeys(value: Record<string, unknown>, known: readonly string[], path: Path): void {
    for (const key of Object.keys(value)) {
      if (known.includes(key)) continue;
      const near = known.find((k) => k.toLowerCase() === key.toLowerCase() || editDistance(k.toLowerCase(), key.toLowerCase()) <= 2);
      this.problems.push({
        severity: 'warning',
        path: formatPolicyPath([...path, key]),
        ...this.locate([...path, key], true),
        message: `unknown field ${quoted(key)}: the API server ignores it`,
        hint: near ? `did you mean "${near}"? (field names are case-sensitive)` : `remove it; allowed here: ${known.join(', ')}`,
      });
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'string') return quoted(value);
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return 'a date';
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value} (${excerpt(String(value))})`;
}
