/**
 * Investigate: the learner's answers, graded against their own answer key (every learner's
 * incident differs, so answers cannot be shared). Only the answers come from the browser.
 */
import { resultOf, type CriterionResult } from '../../../lib/check-result.ts';
import type { AnswerKey } from '../../scenarios/answer-key.ts';
import type { Check } from '../check.ts';

const MAX_ANSWER = 2000;

function items(answer: string): string[] {
  return answer
    .split(/[\s,;]+/)
    .map((s) => s.trim().replace(/^["'`]|["'`]$/g, ''))
    .filter(Boolean);
}

function normalizeIdentity(answer: string): string {
  const text = answer.trim().replace(/^["'`]|["'`]$/g, '');
  const sa = /^(?:system:serviceaccount:)?([a-z0-9-]+)[:/]([a-z0-9-]+)$/.exec(text);
  return sa ? `system:serviceaccount:${sa[1]}:${sa[2]}` : text;
}

type Judge = (answer: string, key: AnswerKey) => CriterionResult;

const judges: Record<string, Judge> = {
  identity: (answer, key) => {
    const expected = `system:serviceaccount:${key.compromisedPod.namespace}:${key.compromisedPod.serviceAccount}`;
    const passed = normalizeIdentity(answer) === expected;
    return { id: 'identity', passed, message: passed ? 'right: the service account the attack ran as' : 'not the identity the attack started from: find the attacker\'s first requests (their source IP, user agent) and read user.username' };
  },
  secrets: (answer, key) => {
    const expected = key.secretsRead.filter((s) => !s.endsWith('/*'));
    const given = new Set(items(answer).map((s) => s.replace(/^secrets?\//, '')));
    const missing = expected.filter((s) => !given.has(s));
    const extra = [...given].filter((s) => !expected.includes(s));
    const passed = missing.length === 0 && extra.length === 0;
    return {
      id: 'secrets',
      passed,
      message: passed
        ? `right: ${expected.length} secrets read by name`
        : `${missing.length ? `${missing.length} secret(s) read by the attacker are missing` : ''}${missing.length && extra.length ? '; ' : ''}${extra.length ? `${extra.length} named secret(s) were not read by the attacker (write namespace/name)` : ''}`,
    };
  },
  binding: (answer, key) => {
    const binding = key.bindingsCreated[0];
    const text = answer.toLowerCase();
    const name = Boolean(binding && text.includes(binding.name.toLowerCase()));
    const role = Boolean(binding && new RegExp(`\\b${binding.role}\\b`).test(text));
    return {
      id: 'binding',
      passed: name && role,
      message: name && role ? 'right: the binding and the role it grants' : `${name ? '' : 'the binding\'s name is not the one the attacker created'}${!name && !role ? '; ' : ''}${role ? '' : 'name the role it binds (roleRef)'}`,
    };
  },
  'exec-command': (answer, key) => {
    const command = key.execs[0]?.command ?? [];
    const inner = (command.at(-1) ?? '').replace(/\s+/g, ' ').trim();
    const passed = inner.length > 0 && answer.replace(/\s+/g, ' ').includes(inner);
    return { id: 'exec-command', passed, message: passed ? 'right: the command the attacker ran' : 'not the command run through pods/exec: the requestURI\'s command= parameters hold it' };
  },
  'source-ips': (answer, key) => {
    const given = new Set(items(answer));
    const expected = key.attacker.sourceIPs;
    const missing = expected.filter((ip) => !given.has(ip));
    const extra = [...given].filter((ip) => !expected.includes(ip));
    const passed = missing.length === 0 && extra.length === 0;
    return { id: 'source-ips', passed, message: passed ? 'right: every address the attacker\'s requests came from' : `${missing.length} attacker address(es) missing, ${extra.length} address(es) not the attacker's (the first entry of sourceIPs is the client)` };
  },
  'first-request': (answer, key) => {
    const given = Date.parse(answer.trim());
    const expected = Date.parse(key.firstMaliciousAt);
    const passed = Number.isFinite(given) && Math.abs(given - expected) <= 2000;
    return {
      id: 'first-request',
      passed,
      message: !Number.isFinite(given) ? 'write the time as in the audit log, e.g. 2026-11-27T18:49:32Z' : passed ? 'right: the first malicious request' : `that is ${Math.round((given - expected) / 1000)} s off the attacker's first request`,
    };
  },
};

export function judgeInvestigation(answers: Record<string, string>, key: AnswerKey, questions: readonly string[]): CriterionResult[] {
  return questions.map((id) => {
    const answer = (answers[id] ?? '').slice(0, MAX_ANSWER);
    const judge = judges[id];
    if (!judge) return { id, passed: false, message: `no grader for question ${id}` };
    if (!answer.trim()) return { id, passed: false, message: 'not answered yet' };
    return judge(answer, key);
  });
}

export const INVESTIGATION_QUESTIONS = Object.keys(judges);

export const investigationCheck: Check = {
  name: 'investigation',
  description: 'The learner\'s answers about identity, secrets, binding, exec command, source IPs and the first request match their answer key.',
  criteria: INVESTIGATION_QUESTIONS,
  async run({ answers, answerKey, questions }) {
    return resultOf(judgeInvestigation(answers, answerKey, questions));
  },
};
