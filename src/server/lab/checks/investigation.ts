/**
 * Investigate: the learner's answers, graded against their own answer key (every learner's
 * incident differs, so answers cannot be shared). Only the answers come from the browser.
 *
 * Every answer is graded as an exact set in a canonical form (answer-forms.ts): padding an answer
 * with candidates fails. A wrong answer's message says which criterion failed and where to look,
 * never a value from the key, a count of missing items or how far off the answer is; once the
 * answer is right, the message may explain it.
 */
import { resultOf, type CriterionResult } from '../../../lib/check-result.ts';
import type { AuditEvent } from '../../cluster/types.ts';
import type { AnswerKey } from '../../scenarios/answer-key.ts';
import type { Check } from '../check.ts';
import { allIPs, bindingNames, commandArgv, commandForms, listItems, sameSet, secretRef } from './answer-forms.ts';
import { nodeJudges } from './investigation-node.ts';

const MAX_ANSWER = 2000;
/** How close a first-request time must be: the log's timestamps have microseconds, learners round. */
const FIRST_REQUEST_TOLERANCE_MS = 2000;

/** What the audit log adds to the key: the address the API server itself saw for each attacker request. */
export interface InvestigationFacts {
  /** Last `sourceIPs` entry of each of the attacker's audit events (the connection's peer). */
  observedIPs: string[];
}

function normalizeIdentity(answer: string): string {
  const text = answer.trim().replace(/^["'`]|["'`]$/g, '');
  const sa = /^(?:system:serviceaccount:)?([a-z0-9-]+)[:/]([a-z0-9-]+)$/.exec(text);
  return sa ? `system:serviceaccount:${sa[1]}:${sa[2]}` : text;
}

/**
 * The sets of secrets that are a right answer: those read by name, and (when the attacker listed
 * secrets) those plus every secret the lists returned, since a list returns each object whole.
 */
export function acceptedSecretSets(key: AnswerKey): { named: string[]; read: string[] } {
  const named = key.secretsRead.filter((s) => !s.endsWith('/*'));
  const listed = key.secretsRead.filter((s) => s.endsWith('/*')).map((s) => s.slice(0, -2));
  const returned = (key.reachableSecrets ?? []).filter((s) => listed.includes('*') || listed.includes(s.namespace)).map((s) => `${s.namespace}/${s.name}`);
  return { named, read: [...new Set([...named, ...returned])] };
}

type Judge = (answer: string, key: AnswerKey, facts: InvestigationFacts) => CriterionResult;

const judges: Record<string, Judge> = {
  identity: (answer, key) => {
    const expected = `system:serviceaccount:${key.compromisedPod.namespace}:${key.compromisedPod.serviceAccount}`;
    const passed = normalizeIdentity(answer) === expected;
    return { id: 'identity', passed, message: passed ? 'right: the service account the attack ran as' : 'not the identity the attack started from: find the attacker\'s first requests (their source IP, user agent) and read user.username; answer with one identity' };
  },

  secrets: (answer, key) => {
    const items = listItems(answer);
    const refs = items.map(secretRef);
    if (refs.some((r) => r === undefined)) {
      return { id: 'secrets', passed: false, message: 'write each secret as namespace/name, separated by commas, and nothing else' };
    }
    const { named, read } = acceptedSecretSets(key);
    // `ns/*` stands for every secret in the namespace: right where the attacker listed it.
    const everySecretIn = (ns: string) => (key.reachableSecrets ?? []).filter((s) => ns === '*' || s.namespace === ns).map((s) => `${s.namespace}/${s.name}`);
    const given = (refs as string[]).flatMap((ref) => (ref.endsWith('/*') && everySecretIn(ref.slice(0, -2)).length ? everySecretIn(ref.slice(0, -2)) : [ref]));
    const byName = sameSet(given, named);
    const all = !byName && read.length > named.length && sameSet(given, read);
    return {
      id: 'secrets',
      passed: byName || all,
      message: byName
        ? 'right: the secrets the attacker read by name'
        : all
          ? 'right: every secret the attacker read, those read by name and every one its list requests returned (a list returns each secret whole)'
          : 'not the set of secrets the attacker read: take every get of a secret (objectRef.name) by each identity the attacker used, from every address; a list reads every secret in its namespace, so name those too or leave all of them out',
    };
  },

  binding: (answer, key) => {
    const expected = key.bindingsCreated.flatMap((b) => [b.name, b.role]).map((s) => s.toLowerCase());
    const given = bindingNames(answer);
    const passed = expected.length > 0 && sameSet(given, expected) && given.length === new Set(given).size;
    return {
      id: 'binding',
      passed,
      message: passed
        ? 'right: the binding and the role it grants'
        : given.length > expected.length
          ? 'answer with the one binding the attacker created and the role its roleRef names, nothing else'
          : 'not the binding the attacker created with its role: find the create of a clusterrolebinding in the audit log, then read the object\'s roleRef (kubectl get clusterrolebinding -o wide)',
    };
  },

  'exec-command': (answer, key) => {
    const given = commandArgv(answer);
    const passed = key.execs.length > 0 && key.execs.some((exec) => commandForms(exec.command).some((form) => form.length === given.length && form.every((word, i) => word === given[i])));
    return {
      id: 'exec-command',
      passed,
      message: passed
        ? 'right: the command the attacker ran'
        : 'not the command run through pods/exec: answer with the command alone, exactly as the exec request\'s requestURI gives it in its command= parameters',
    };
  },

  'source-ips': (answer, key, facts) => {
    const given = listItems(answer);
    if (!allIPs(given)) return { id: 'source-ips', passed: false, message: 'answer with IP addresses only, separated by commas' };
    const claimed = key.attacker.sourceIPs;
    const observed = [...new Set(facts.observedIPs)].filter((ip) => !claimed.includes(ip));
    const readings = [
      { ips: claimed, what: 'the addresses the attacker\'s requests claimed' },
      { ips: observed, what: 'the address the API server itself saw' },
      { ips: [...claimed, ...observed], what: 'every address the attacker\'s requests recorded' },
    ].filter((r) => r.ips.length > 0);
    const reading = readings.find((r) => sameSet(given, r.ips));
    const explain = observed.length
      ? ` sourceIPs lists the X-Forwarded-For entries first (here ${claimed.join(', ')}: what the client or a proxy claimed, which a client can forge) and the address of the connection the API server accepted last (here ${observed.join(', ')}: the only one it observed itself). Trust the last entry, or the entries your own proxies appended.`
      : '';
    return {
      id: 'source-ips',
      passed: Boolean(reading),
      message: reading
        ? `right: ${reading.what}.${explain}`
        : 'not the attacker\'s addresses: take every request of each identity the attacker used and read its sourceIPs; answer with those addresses and no others',
    };
  },

  'first-request': (answer, key) => {
    const given = Date.parse(answer.trim());
    const expected = Date.parse(key.firstMaliciousAt);
    const passed = Number.isFinite(given) && Math.abs(given - expected) <= FIRST_REQUEST_TOLERANCE_MS;
    return {
      id: 'first-request',
      passed,
      message: !Number.isFinite(given)
        ? 'write the time as the audit log does (RFC 3339, e.g. 2001-02-03T04:05:06Z)'
        : passed
          ? 'right: the first malicious request'
          : 'not the time of the attacker\'s first request: find the earliest requestReceivedTimestamp among the requests of every identity and address the attacker used',
    };
  },
};

export function judgeInvestigation(answers: Record<string, string>, key: AnswerKey, questions: readonly string[], facts: InvestigationFacts = { observedIPs: [] }): CriterionResult[] {
  return questions.map((id) => {
    const answer = (answers[id] ?? '').slice(0, MAX_ANSWER);
    const judge: Judge | undefined = Object.hasOwn(judges, id) ? judges[id] : Object.hasOwn(nodeJudges, id) ? nodeJudges[id] : undefined;
    if (!judge) return { id, passed: false, message: `no grader for question ${id}` };
    if (!answer.trim()) return { id, passed: false, message: 'not answered yet' };
    return judge(answer, key, facts);
  });
}

/** The server-observed address of each of the attacker's requests: the last entry of sourceIPs. */
export function observedIPs(key: AnswerKey, events: AuditEvent[]): string[] {
  const ids = new Set((key.steps ?? []).map((s) => s.auditId));
  return [...new Set(events.filter((e) => ids.has(e.auditID)).flatMap((e) => e.sourceIPs?.slice(-1) ?? []))];
}

export const INVESTIGATION_QUESTIONS = [...Object.keys(judges), ...Object.keys(nodeJudges)];

export const investigationCheck: Check = {
  name: 'investigation',
  description: 'The learner\'s answers about identity, secrets, binding, exec command, source IPs and the first request (and, for an incident that reached its node, the node identity, the secrets it read, its addresses and the rebuild decision) match their answer key, each as an exact set.',
  criteria: INVESTIGATION_QUESTIONS,
  async run({ answers, answerKey, questions, auditEvents }) {
    const facts = questions.includes('source-ips') ? { observedIPs: observedIPs(answerKey, await auditEvents()) } : { observedIPs: [] };
    return resultOf(judgeInvestigation(answers, answerKey, questions, facts));
  },
};
