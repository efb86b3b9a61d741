/** Short, human descriptions of rules and requests for messages and tables. */
import { excerpt, quoted } from '../excerpt.ts';
import type { AuditPolicy, PolicyRule, RequestAttributes } from './types.ts';

/** Values a list shows, and characters a whole summary keeps: a rule is named, not echoed. */
const LIST_SHOWN = 4;
const SUMMARY_CHARS = 160;

const list = (values: readonly string[]) => {
  const shown = values.slice(0, LIST_SHOWN).map((v) => quoted(v));
  if (values.length > LIST_SHOWN) shown.push(`${values.length - LIST_SHOWN} more`);
  return `[${shown.join(', ')}]`;
};

/** `level: Metadata, resources: [{group: "", resources: ["*"]}]`: the rule's non-empty fields. */
export function summarizeRule(rule: PolicyRule): string {
  const parts = [`level: ${excerpt(rule.level)}`];
  if (rule.users.length) parts.push(`users: ${list(rule.users)}`);
  if (rule.userGroups.length) parts.push(`userGroups: ${list(rule.userGroups)}`);
  if (rule.verbs.length) parts.push(`verbs: ${list(rule.verbs)}`);
  if (rule.namespaces.length) parts.push(`namespaces: ${list(rule.namespaces)}`);
  if (rule.resources.length) {
    const entries = rule.resources.map((gr) => {
      const fields = [`group: ${quoted(gr.group)}`];
      if (gr.resources.length) fields.push(`resources: ${list(gr.resources)}`);
      if (gr.resourceNames.length) fields.push(`resourceNames: ${list(gr.resourceNames)}`);
      return `{${fields.join(', ')}}`;
    });
    parts.push(`resources: [${entries.slice(0, LIST_SHOWN).join(', ')}${entries.length > LIST_SHOWN ? `, ${entries.length - LIST_SHOWN} more` : ''}]`);
  }
  if (rule.nonResourceURLs.length) parts.push(`nonResourceURLs: ${list(rule.nonResourceURLs)}`);
  if (rule.omitStages.length) parts.push(`omitStages: ${list(rule.omitStages)}`);
  return excerpt(parts.join(', '), SUMMARY_CHARS);
}

/** `rules[3]` with its line when known. */
export function ruleRef(policy: AuditPolicy, index: number): string {
  const line = policy.rules[index]?.line;
  return line === undefined ? `rules[${index}]` : `rules[${index}] (line ${line})`;
}

/** `rules[3] (line 22: level: Metadata, resources: [...])` */
export function describeRule(policy: AuditPolicy, index: number): string {
  const rule = policy.rules[index];
  if (!rule) return `rules[${index}]`;
  const where = rule.line === undefined ? '' : `line ${rule.line}: `;
  return `rules[${index}] (${where}${summarizeRule(rule)})`;
}

/** `get pods/exec "web" in production` or `get /healthz`. */
export function describeRequest(request: RequestAttributes): string {
  if (!request.resourceRequest) return `${request.verb} ${request.path}`;
  const group = request.apiGroup ? `.${request.apiGroup}` : '';
  const what = `${request.resource}${group}${request.subresource ? `/${request.subresource}` : ''}`;
  const name = request.name ? ` "${request.name}"` : '';
  const where = request.namespace ? ` in namespace ${request.namespace}` : ' (cluster-scoped)';
  return `${request.verb} ${what}${name}${where}`;
}
