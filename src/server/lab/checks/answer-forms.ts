/**
 * The forms a learner may write an investigation answer in, reduced to one canonical form each,
 * so graders compare sets exactly: spacing, quotes, arrows, `kind/` prefixes and the audit log's
 * own spellings (a requestURI, a JSON array) are all accepted, padding never is.
 */
import { isIP } from 'node:net';
import { shellWords } from '../../../lib/shell-words.ts';

const QUOTES = /^["'`]+|["'`]+$/g;

/** Items of a list answer: split on commas, semicolons and whitespace, quotes stripped. */
export function listItems(answer: string): string[] {
  return answer
    .split(/[\s,;]+/)
    .map((s) => s.trim().replace(QUOTES, ''))
    .filter(Boolean);
}

/**
 * `namespace/name` of one secret as written: `ns/name`, `secret/ns/name`, `ns/secrets/name`, or
 * an API path / requestURI (`/api/v1/namespaces/ns/secrets/name`). `ns/*` stays a wildcard for
 * the caller to expand. Undefined when the item is not a secret reference.
 */
export function secretRef(item: string): string | undefined {
  const text = item.replace(/^secrets?(?:\.v1)?\//i, '');
  const uri = /namespaces\/([a-z0-9.-]+)\/secrets\/([a-z0-9.*-]+)/i.exec(text);
  if (uri) return `${uri[1]}/${uri[2]}`.toLowerCase();
  const parts = text.split('/').filter((p) => !/^secrets?$/i.test(p));
  if (parts.length !== 2 || !parts.every((p) => /^[a-z0-9.*-]+$/i.test(p))) return undefined;
  return `${parts[0]}/${parts[1]}`.toLowerCase();
}

/** Words a learner may write around a binding and its role; they name neither. */
const BINDING_FILLER = new Set(['to', 'binds', 'bound', 'bind', 'grants', 'granting', 'role', 'roleref', 'binding', 'clusterrole', 'clusterrolebinding', 'crb', 'with', 'the', 'and', 'name', 'kind', '=', ':']);

/**
 * Names in a binding answer: arrows, punctuation, filler words and `kind/` prefixes dropped.
 * `backup-operator → cluster-admin`, `clusterrolebinding/backup-operator -> ClusterRole/cluster-admin`
 * and `backup-operator (cluster-admin)` all give the same two names.
 */
export function bindingNames(answer: string): string[] {
  return answer
    .toLowerCase()
    .replace(/[→⇒➜➔⟶]|-+>|=+>|<-+/g, ' ')
    .split(/[\s,;()[\]{}|]+/)
    .map((s) => s.replace(QUOTES, '').replace(/^(?:clusterrolebindings?|clusterroles?)(?:\.rbac\.authorization\.k8s\.io)?\//, '').replace(/^(?:roleref|name|role|binding)[:=]/, '').replace(/[:.]$/, ''))
    .filter((s) => s && !BINDING_FILLER.has(s));
}


/**
 * The argv a command answer stands for: the `command=` parameters of a requestURI, a JSON array
 * as the audit log or a manifest writes it, or a shell line (after a `kubectl exec ... --`).
 */
export function commandArgv(answer: string): string[] {
  const text = answer.trim().replace(/^`+|`+$/g, '');
  if (/[?&]command=/.test(text)) {
    const query = text.slice(text.indexOf('?') + 1);
    return new URLSearchParams(query).getAll('command');
  }
  if (text.startsWith('[')) {
    try {
      const parsed = JSON.parse(text) as unknown;
      if (Array.isArray(parsed) && parsed.every((s) => typeof s === 'string')) return parsed as string[];
    } catch {
      // Not JSON: read it as a shell line.
    }
  }
  const words = shellWords(text);
  const dashes = words.indexOf('--');
  return words[0] === 'kubectl' && dashes >= 0 ? words.slice(dashes + 1) : words;
}

/** The argv forms that name the same command: itself and, for `sh -c "…"`, the inner line's words. */
export function commandForms(command: string[]): string[][] {
  const forms = [command];
  const shell = /^(?:\/(?:usr\/)?bin\/)?(?:sh|bash|ash|dash)$/;
  if (command.length === 3 && shell.test(command[0] ?? '') && command[1] === '-c') {
    const inner = shellWords(command[2] ?? '');
    forms.push(inner, [command[0]!, '-c', ...inner]);
  }
  return forms.filter((f) => f.length > 0);
}

/** Whether every item is an IP address. */
export function allIPs(items: string[]): boolean {
  return items.every((item) => isIP(item) !== 0);
}

export function sameSet(a: Iterable<string>, b: Iterable<string>): boolean {
  const x = new Set(a);
  const y = new Set(b);
  return x.size === y.size && [...x].every((v) => y.has(v));
}
