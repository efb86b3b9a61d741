// Audit policy checks done before touching a running API server. They catch
// what we can state precisely (not YAML, wrong kind, no rules, unknown level);
// finer semantics (stage names, URL patterns, group/resource combinations) are
// left to kube-apiserver, whose own message is surfaced if it refuses.

import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';

import { excerpt, quoted } from '../../lib/excerpt.ts';
import { ClusterError } from './types.ts';

/** A value from the policy file, as errors quote it: a short excerpt (the file may be anything). */
const quotedValue = (value: unknown) => (value === undefined ? 'undefined' : quoted(typeof value === 'string' ? value : JSON.stringify(value) ?? String(value)));

export const AUDIT_LEVELS = ['None', 'Metadata', 'Request', 'RequestResponse'] as const;

/**
 * Used when a lab does not bring its own policy. RequestReceived is omitted
 * so each request yields one ResponseComplete event, which is what labs grade.
 */
export const DEFAULT_AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages:
  - RequestReceived
rules:
  - level: Metadata
`;

export interface PolicyCheck {
  ok: boolean;
  errors: string[];
}

export function checkAuditPolicy(text: string): PolicyCheck {
  let doc: unknown;
  try {
    // kube-apiserver decodes leniently after a strict failure: a duplicated key is not an error
    // there (the last value wins), so it must not be one here (tests/integration/audit-policy-differential).
    doc = parse(text, { uniqueKeys: false });
  } catch (err) {
    return { ok: false, errors: [`not valid YAML: ${excerpt((err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '', 96)}`] };
  }
  if (!isRecord(doc)) return { ok: false, errors: ['expected a YAML mapping (an audit.k8s.io/v1 Policy)'] };

  const errors: string[] = [];
  if (doc['apiVersion'] !== 'audit.k8s.io/v1') {
    errors.push(`apiVersion must be audit.k8s.io/v1, got ${quotedValue(doc['apiVersion'])}`);
  }
  if (doc['kind'] !== 'Policy') errors.push(`kind must be Policy, got ${quotedValue(doc['kind'])}`);
  const rules = doc['rules'];
  if (!Array.isArray(rules) || rules.length === 0) {
    errors.push('rules must be a non-empty list (the API server refuses a policy without rules)');
  } else {
    rules.forEach((rule: unknown, i) => {
      if (!isRecord(rule)) {
        errors.push(`rules[${i}] must be a mapping`);
        return;
      }
      const level = rule['level'];
      if (typeof level !== 'string' || !(AUDIT_LEVELS as readonly string[]).includes(level)) {
        errors.push(`rules[${i}].level must be one of ${AUDIT_LEVELS.join(', ')}, got ${quotedValue(level)}`);
      }
    });
  }
  return { ok: errors.length === 0, errors };
}

/** Reads and checks a policy file; returns its text for the provider to install. */
export async function loadAuditPolicy(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ClusterError(`cannot read audit policy ${path}: ${(err as Error).message}`, 'Pass an existing file.');
  }
  const check = checkAuditPolicy(text);
  if (!check.ok) {
    throw new ClusterError(
      `invalid audit policy ${path}:\n  - ${check.errors.join('\n  - ')}`,
      'See https://kubernetes.io/docs/tasks/debug/debug-cluster/audit/#audit-policy for the format.',
    );
  }
  return text;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
