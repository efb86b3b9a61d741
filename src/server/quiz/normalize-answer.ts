/**
 * Typed answers are compared after normalization, so that learners are graded on what they know
 * rather than on spacing, curly quotes or the order they like their kubectl flags in.
 */

import { shellWords } from '../../lib/shell-words.ts';

/** Trim, collapse whitespace, straighten quotes, drop a final full stop; lower-case unless asked. */
export function normalizeText(input: string, caseSensitive = false): string {
  const text = input
    .normalize('NFKC')
    .replace(/[\u2018\u2019\u201a\u201b\u2032]/g, "'")
    .replace(/[\u201c\u201d\u201e\u201f\u2033]/g, '"')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/\.$/, '')
    .trim();
  return caseSensitive ? text : text.toLowerCase();
}


/** kubectl's short flags and their long names. */
const SHORT_FLAGS: Record<string, string> = {
  '-n': '--namespace',
  '-o': '--output',
  '-l': '--selector',
  '-f': '--filename',
  '-c': '--container',
  '-A': '--all-namespaces',
  // Answers are lower-cased before parsing unless the question is case-sensitive.
  '-a': '--all-namespaces',
  '-p': '--previous',
};
/** Flags that take a value as the next word when not written `--flag=value`. */
const VALUE_FLAGS = new Set(['--namespace', '--output', '--selector', '--filename', '--container', '--context', '--field-selector', '--type', '--image', '--since', '--tail', '--kubeconfig', '--as', '--as-group']);
/** Resource spellings kubectl treats as the same thing. */
const RESOURCE_ALIASES: Record<string, string> = {
  po: 'pod', pods: 'pod',
  secrets: 'secret',
  ns: 'namespace', namespaces: 'namespace',
  netpol: 'networkpolicy', networkpolicies: 'networkpolicy',
  sa: 'serviceaccount', serviceaccounts: 'serviceaccount',
  deploy: 'deployment', deployments: 'deployment',
  clusterrolebindings: 'clusterrolebinding', rolebindings: 'rolebinding', clusterroles: 'clusterrole', roles: 'role',
};

/**
 * A command in canonical form: prompt (`$ `) dropped, quotes removed, flags spelled long with
 * `=value`, `=true` dropped from switches, flags sorted after the positional words (whose order
 * matters), and kubectl resource aliases and `type/name` spelled one way.
 */
export function normalizeCommand(input: string, caseSensitive = false): string {
  const words = shellWords(normalizeText(input, caseSensitive).replace(/^\$\s*/, ''));
  const positional: string[] = [];
  const flags: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word.startsWith('-') && word.length > 1 && !/^-\d/.test(word)) {
      let [name, value] = word.includes('=') ? [word.slice(0, word.indexOf('=')), word.slice(word.indexOf('=') + 1)] : [word, undefined];
      // `-nproduction` is `-n production`.
      if (/^-[a-zA-Z]./.test(name) && !name.startsWith('--') && SHORT_FLAGS[name.slice(0, 2)] && value === undefined) {
        value = name.slice(2);
        name = name.slice(0, 2);
      }
      name = SHORT_FLAGS[name] ?? name;
      if (value === undefined && VALUE_FLAGS.has(name) && i + 1 < words.length) value = words[++i];
      flags.push(value === undefined || value === 'true' ? name : `${name}=${value}`);
    } else positional.push(word);
  }
  if (positional[0] === 'kubectl' && positional.length > 2) {
    const target = positional[2]!;
    const slash = target.indexOf('/');
    if (slash > 0) positional.splice(2, 1, target.slice(0, slash), target.slice(slash + 1));
    positional[2] = RESOURCE_ALIASES[positional[2]!] ?? positional[2]!;
  }
  return [...positional, ...flags.sort()].join(' ');
}
