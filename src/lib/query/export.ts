/**
 * A detection rule as a Sigma rule (logsource kubernetes/audit; a Sigma correlation rule carries a
 * threshold) and as a Falco rule for the k8saudit plugin (source k8s_audit, ka.* fields). Falco
 * matches one event at a time, so a threshold cannot be expressed there: the Falco rule alerts on
 * every matching event and its description says which threshold to apply downstream.
 */
import { stringify } from 'yaml';
import type { Expr, FieldRef, Literal, Query, Stage } from './ast.ts';
import type { DetectionRule } from './detections.ts';
import { parseQuery } from './parser.ts';

export class ExportError extends Error {}

// ---------- Sigma ----------

interface SigmaDetection {
  selections: Record<string, Record<string, unknown>>;
  condition: string;
}

function sigmaValue(literal: Literal, wildcards: boolean): unknown {
  switch (literal.kind) {
    case 'string': {
      // Sigma reads * and ? as wildcards and \ as their escape.
      let out = '';
      for (let i = 0; i < literal.value.length; i++) {
        const c = literal.value[i]!;
        if (c === '*' && wildcards && literal.stars.includes(i)) out += '*';
        else out += c === '*' || c === '?' || c === '\\' ? `\\${c}` : c;
      }
      return out;
    }
    case 'number':
    case 'bool':
      return literal.value;
    case 'null':
      return null;
  }
}

function sigmaField(field: FieldRef): string {
  return field.path.join('.');
}

function toSigma(expr: Expr): SigmaDetection {
  const selections: Record<string, Record<string, unknown>> = {};
  let n = 0;
  const add = (key: string, value: unknown) => {
    const name = `selection_${++n}`;
    selections[name] = { [key]: value };
    return name;
  };
  const walk = (e: Expr, parent: 'and' | 'or' | 'not' | 'top'): string => {
    switch (e.type) {
      case 'and':
      case 'or': {
        const text = e.items.map((item) => walk(item, e.type)).join(` ${e.type} `);
        return parent === 'top' || parent === e.type ? text : `(${text})`;
      }
      case 'not':
        return `not ${walk(e.expr, 'not')}`;
      case 'exists':
        return add(`${sigmaField(e.field)}|exists`, true);
      case 'in': {
        const name = add(sigmaField(e.field), e.values.map((v) => sigmaValue(v, false)));
        return e.negated ? `not ${name}` : name;
      }
      case 'compare': {
        const field = sigmaField(e.field);
        if (e.op === '==' || e.op === '!=') {
          const name = add(field, sigmaValue(e.value, true));
          return e.op === '!=' ? `not ${name}` : name;
        }
        if (e.value.kind !== 'number') throw new ExportError(`Sigma compares only numbers with ${e.op}; ${e.field.text} ${e.op} ${JSON.stringify((e.value as { value?: unknown }).value)} cannot be exported (time ranges belong to the search, not the rule)`);
        const modifier = { '<': 'lt', '<=': 'lte', '>': 'gt', '>=': 'gte' }[e.op];
        return add(`${field}|${modifier}`, e.value.value);
      }
    }
  };
  const condition = walk(expr, 'top');
  return { selections, condition };
}

/** A stable UUID-shaped id from a name (FNV-1a, four lanes), so re-exporting a rule keeps its Sigma id. */
function stableUuid(name: string): string {
  let hex = '';
  for (let lane = 1; lane <= 4; lane++) {
    let h = 0x811c9dc5 ^ Math.imul(lane, 0x9e3779b1);
    for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193 + lane * 2);
    h ^= h >>> 15;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    hex += (h >>> 0).toString(16).padStart(8, '0');
  }
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

interface Threshold {
  kind: 'count' | 'dc';
  field?: FieldRef;
  by: FieldRef[];
  windowMs?: number;
  op: '>' | '>=' | '<' | '<=' | '==';
  value: number;
}

/** Splits a rule into its per-event selection and, if any, the threshold on top. */
function splitRule(query: Query): { filter: Expr; threshold?: Threshold } {
  if (!query.filter) throw new ExportError('a rule needs a condition before its first "|"');
  const stages = [...query.stages];
  let windowMs: number | undefined;
  let agg: Extract<Stage, { type: 'count' | 'dc' }> | undefined;
  let where: Extract<Stage, { type: 'where' }> | undefined;
  for (const stage of stages) {
    if (stage.type === 'bin' && !agg) windowMs = stage.ms;
    else if ((stage.type === 'count' || stage.type === 'dc') && !agg) agg = stage;
    else if (stage.type === 'where' && agg && !where) where = stage;
    else if (stage.type === 'sort' || stage.type === 'head') continue;
    else throw new ExportError(`the "${stage.type}" stage at this place has no Sigma/Falco equivalent; export filter | [bin] | count or dc by ... | where ... only`);
  }
  if (!agg) return { filter: query.filter };
  const cond = where?.expr;
  if (!cond || cond.type !== 'compare' || cond.value.kind !== 'number' || cond.op === '!=') {
    throw new ExportError(`an aggregated rule needs "| where ${agg.type} > N" (or >=, <, <=, ==) to export`);
  }
  return {
    filter: query.filter,
    threshold: { kind: agg.type, field: agg.type === 'dc' ? agg.field : undefined, by: agg.by, windowMs, op: cond.op as Threshold['op'], value: cond.value.value },
  };
}

function timespan(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000]] as const) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms / 1000}s`;
}

function sigmaTags(rule: DetectionRule): string[] {
  return [...new Set(rule.attack.flatMap((t) => [`attack.${t.tactic}`, `attack.${t.id.toLowerCase()}`]))];
}

export function toSigmaRule(rule: DetectionRule, date = '2026-11-27'): string {
  const { filter, threshold } = splitRule(parseQuery(rule.query));
  const { selections, condition } = toSigma(filter);
  const base = {
    title: rule.title,
    id: stableUuid(rule.id),
    ...(threshold ? { name: rule.id } : {}),
    status: 'experimental',
    description: rule.description,
    references: ['https://kubernetes.io/docs/reference/config-api/apiserver-audit.v1/', ...rule.attack.map((t) => `https://attack.mitre.org/techniques/${t.id.replace('.', '/')}/`)],
    author: 'irlab',
    date,
    tags: sigmaTags(rule),
    logsource: { product: 'kubernetes', service: 'audit' },
    detection: { ...selections, condition },
    falsepositives: rule.falsePositives,
    level: rule.level,
  };
  if (!threshold) return stringify(base, { lineWidth: 0 });
  const ops = { '>': 'gt', '>=': 'gte', '<': 'lt', '<=': 'lte', '==': 'eq' } as const;
  const correlation = {
    title: `${rule.title} (threshold)`,
    id: stableUuid(`${rule.id}/correlation`),
    status: 'experimental',
    author: 'irlab',
    date,
    tags: sigmaTags(rule),
    correlation: {
      type: threshold.kind === 'dc' ? 'value_count' : 'event_count',
      rules: [rule.id],
      'group-by': threshold.by.map((f) => f.path.join('.')),
      timespan: timespan(threshold.windowMs ?? 3_600_000),
      condition: { [ops[threshold.op]]: threshold.value, ...(threshold.field ? { field: threshold.field.path.join('.') } : {}) },
    },
    falsepositives: rule.falsePositives,
    level: rule.level,
  };
  return `${stringify({ ...base, level: 'informational' }, { lineWidth: 0 })}---\n${stringify(correlation, { lineWidth: 0 })}`;
}

// ---------- Falco ----------

const FALCO_FIELDS: Record<string, string> = {
  verb: 'ka.verb',
  'user.username': 'ka.user.name',
  'user.groups': 'ka.user.groups',
  'impersonatedUser.username': 'ka.impuser.name',
  'objectRef.resource': 'ka.target.resource',
  'objectRef.subresource': 'ka.target.subresource',
  'objectRef.namespace': 'ka.target.namespace',
  'objectRef.name': 'ka.target.name',
  'responseStatus.code': 'ka.response.code',
  'responseStatus.reason': 'ka.response.reason',
  sourceIPs: 'ka.sourceips',
  userAgent: 'ka.useragent',
  auditID: 'ka.auditid',
  stage: 'ka.stage',
  requestURI: 'ka.uri',
  'annotations.authorization.k8s.io/decision': 'ka.auth.decision',
  'annotations.authorization.k8s.io/reason': 'ka.auth.reason',
  'requestObject.roleRef.name': 'ka.req.binding.role',
  // The k8saudit plugin's pod fields read a pod's own spec (not a workload's template).
  'requestObject.spec.hostPID': 'ka.req.pod.host_pid',
  'requestObject.spec.hostIPC': 'ka.req.pod.host_ipc',
  'requestObject.spec.containers.securityContext.privileged': 'ka.req.pod.containers.privileged',
  'requestObject.spec.volumes.hostPath': 'ka.req.pod.volumes.hostpath',
};
const FALCO_LISTS = new Set(['ka.user.groups', 'ka.sourceips', 'ka.req.pod.containers.privileged', 'ka.req.pod.volumes.hostpath']);
/** Keys that hold arrays in audit events and pod specs: a JSON pointer cannot say "any element" of them. */
const ARRAY_KEYS = new Set(['items', 'containers', 'initContainers', 'ephemeralContainers', 'volumes', 'subjects', 'ownerReferences']);

const pointer = (path: readonly string[]) => `jevt.value[/${path.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}]`;

function falcoField(field: FieldRef): string {
  const mapped = FALCO_FIELDS[field.path.join('.')];
  if (mapped) return mapped;
  // Anything else through a JSON pointer into the raw event.
  return pointer(field.path);
}

/**
 * A path through an array (a workload template's containers, a list's items) as a text search in
 * the array's JSON, which jevt.value returns compact: `"key":value` anywhere in it. An
 * approximation (it matches the key at any depth below the array), stated in docs/query.md.
 */
function falcoArraySearch(field: FieldRef, text: string | undefined): string | undefined {
  if (FALCO_FIELDS[field.path.join('.')]) return undefined;
  const at = field.path.findIndex((p, i) => ARRAY_KEYS.has(p) && i < field.path.length - 1);
  if (at < 0) return undefined;
  const key = field.path[field.path.length - 1]!;
  return `${pointer(field.path.slice(0, at + 1))} contains ${falcoString(`"${key}":${text ?? ''}`)}`;
}

function falcoString(value: string): string {
  return JSON.stringify(value);
}

function falcoMatch(ref: FieldRef, literal: Literal): string {
  const field = falcoField(ref);
  if (falcoArraySearch(ref, '')) {
    // A JSON pointer names one element; "any element" is approximated by a text search in the array.
    if (literal.kind === 'null' || (literal.kind === 'string' && literal.stars.length)) throw new ExportError(`${ref.text}: only exact values inside an array can be exported to Falco`);
    return falcoArraySearch(ref, JSON.stringify(literal.value))!;
  }
  if (literal.kind === 'null') return `not ${field} exists`;
  if (literal.kind !== 'string') return FALCO_LISTS.has(field) ? `${field} intersects (${String(literal.value)})` : `${field} = ${String(literal.value)}`;
  const { value, stars } = literal;
  if (stars.length === 0) return FALCO_LISTS.has(field) ? `${field} intersects (${falcoString(value)})` : `${field} = ${falcoString(value)}`;
  if (stars.length === 1 && stars[0] === value.length - 1 && !FALCO_LISTS.has(field)) return `${field} startswith ${falcoString(value.slice(0, -1))}`;
  if (stars.length === 1 && stars[0] === 0 && !FALCO_LISTS.has(field)) return `${field} endswith ${falcoString(value.slice(1))}`;
  if (value.includes('?') || value.includes('[')) throw new ExportError(`"${value}" holds glob characters Falco would misread`);
  return `${field} glob ${falcoString(value)}`;
}

function toFalcoCondition(expr: Expr, parent: 'and' | 'or' | 'not' | 'top' = 'top'): string {
  switch (expr.type) {
    case 'and':
    case 'or': {
      const text = expr.items.map((item) => toFalcoCondition(item, expr.type)).join(` ${expr.type} `);
      return parent === 'top' || parent === expr.type ? text : `(${text})`;
    }
    case 'not':
      return `not ${toFalcoCondition(expr.expr, 'not')}`;
    case 'exists':
      return falcoArraySearch(expr.field, '') ?? `${falcoField(expr.field)} exists`;
    case 'in': {
      if (falcoArraySearch(expr.field, '')) throw new ExportError(`${expr.field.text}: a list of values inside an array cannot be exported to Falco; write one == per value`);
      const field = falcoField(expr.field);
      if (expr.values.some((v) => v.kind === 'null')) throw new ExportError('null in a list has no Falco equivalent');
      const list = `(${expr.values.map((v) => (v.kind === 'string' ? falcoString(v.value) : String((v as { value: unknown }).value))).join(', ')})`;
      const text = `${field} ${FALCO_LISTS.has(field) ? 'intersects' : 'in'} ${list}`;
      return expr.negated ? `not ${text}` : parent === 'not' ? `(${text})` : text;
    }
    case 'compare': {
      const field = falcoField(expr.field);
      if (expr.op === '==' || expr.op === '!=') {
        const text = falcoMatch(expr.field, expr.value);
        return expr.op === '!=' ? `not ${text}` : parent === 'not' ? `(${text})` : text;
      }
      if (expr.value.kind !== 'number') throw new ExportError(`Falco compares only numbers with ${expr.op}; ${expr.field.text} cannot be exported`);
      return `${field} ${expr.op} ${expr.value.value}`;
    }
  }
}

const FALCO_PRIORITY = { medium: 'NOTICE', high: 'WARNING', critical: 'CRITICAL' } as const;

/** kube-apiserver's long-running subresources (its BasicLongRunningRequestCheck): exec, attach, logs, port-forward, proxy. */
const LONG_RUNNING_SUBRESOURCES = new Set(['exec', 'attach', 'log', 'portforward', 'proxy']);

/** True when every event the filter matches is a long-running request: it requires such a subresource. */
function onlyLongRunning(expr: Expr): boolean {
  if (expr.type === 'and') return expr.items.some(onlyLongRunning);
  if (expr.type === 'or') return expr.items.every(onlyLongRunning);
  const subresource = (field: FieldRef) => field.path.join('.') === 'objectRef.subresource';
  if (expr.type === 'in' && !expr.negated && subresource(expr.field)) return expr.values.every((v) => v.kind === 'string' && !v.stars.length && LONG_RUNNING_SUBRESOURCES.has(v.value));
  if (expr.type === 'compare' && expr.op === '==' && subresource(expr.field)) return expr.value.kind === 'string' && !expr.value.stars.length && LONG_RUNNING_SUBRESOURCES.has(expr.value.value);
  return false;
}

/**
 * The one audit stage a Falco rule matches, so that each request alerts once. Every request ends
 * with ResponseComplete; long-running ones (watch, exec, attach, logs, port-forward) also write
 * ResponseStarted when the response headers go out, and ResponseComplete only when the stream
 * closes, which for an interactive shell can be hours later. A rule that matches only
 * long-running requests (exec and attach) therefore alerts at ResponseStarted, while the session
 * is open, as Falco's own "Attach/Exec Pod" rule does; every other rule at ResponseComplete.
 */
export function falcoStage(query: Query): 'ResponseStarted' | 'ResponseComplete' {
  return query.filter && onlyLongRunning(query.filter) ? 'ResponseStarted' : 'ResponseComplete';
}

export function toFalcoRule(rule: DetectionRule): string {
  const query = parseQuery(rule.query);
  const { filter, threshold } = splitRule(query);
  const note = threshold
    ? ` Falco matches single events: alert when one ${threshold.by.map((f) => f.text).join(', ') || 'source'} reaches ${threshold.kind === 'dc' ? `${threshold.op} ${threshold.value} distinct ${threshold.field?.text}` : `${threshold.op} ${threshold.value} events`} within ${timespan(threshold.windowMs ?? 3_600_000)} (irlab rule ${rule.id}).`
    : '';
  const falco = [
    {
      rule: rule.title,
      desc: `${rule.description}${note}`,
      condition: `ka.stage = "${falcoStage(query)}" and ${toFalcoCondition(filter, 'and')}`,
      output: `${rule.signal} (user=%ka.user.name verb=%ka.verb resource=%ka.target.resource subresource=%ka.target.subresource ns=%ka.target.namespace name=%ka.target.name code=%ka.response.code ips=%ka.sourceips uri=%ka.uri)`,
      priority: FALCO_PRIORITY[rule.level],
      source: 'k8s_audit',
      tags: ['k8s', ...rule.attack.flatMap((t) => [`mitre_${t.tactic.replaceAll('-', '_')}`, t.id])],
    },
  ];
  return stringify(falco, { lineWidth: 0 });
}
