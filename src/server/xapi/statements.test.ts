import { describe, expect, it } from 'vitest';
import type { LearningEvent } from '../learners/learning-events.ts';
import { statementProblems } from '../../../tests/integration/fixtures/xapi-spec.ts';
import { registrationOf, scoreOf, statementOf, uuidV5 } from './statements.ts';

const publicUrl = 'https://irlab.example.org';
const id = '0b5c2a4e-3f7d-4c1a-9e2b-7d8f6a5c4b3a';
const at = '2026-12-07T10:00:00.000Z';
const quiz = { kind: 'quiz', slug: 'audit-basics', title: 'Audit basics' } as const;
const lab = { kind: 'lab', slug: 'l18', title: 'L18: a stolen token' } as const;
const actor = { learnerId: 'lrn_abc', displayName: 'Ada' };
const of = (event: LearningEvent) => statementOf(event, { id, publicUrl, actor });

describe('xAPI statements from learning events', () => {
  const events: LearningEvent[] = [
    { type: 'launched', learnerId: 'lrn_abc', activity: quiz, runId: 'att_1', at },
    { type: 'launched', learnerId: 'lrn_abc', activity: lab, runId: 'run_1', at },
    { type: 'answered', learnerId: 'lrn_abc', activity: quiz, runId: 'att_1', question: { id: 'q-verbs' }, at },
    { type: 'answered', learnerId: 'lrn_abc', activity: quiz, runId: 'att_1', question: { id: 'q-verbs' }, success: false, at },
    { type: 'passed', learnerId: 'lrn_abc', activity: lab, runId: 'run_1', step: { id: 'audit-policy', title: 'Write an audit policy' }, score: { scaled: 0.25, raw: 1, max: 4 }, at },
    { type: 'passed', learnerId: 'lrn_abc', activity: quiz, runId: 'att_1', score: { scaled: 0.8, raw: 8, max: 10 }, at },
    { type: 'completed', learnerId: 'lrn_abc', activity: quiz, runId: 'att_1', score: { scaled: 0.3, raw: 3, max: 10 }, success: false, at },
    { type: 'completed', learnerId: 'lrn_abc', activity: lab, runId: 'run_1', score: { scaled: 1, raw: 4, max: 4 }, success: true, at },
  ];

  it.each(events.map((event) => [`${event.type} ${event.activity.kind}${'step' in event && event.step ? ' step' : ''}${'success' in event ? ` success=${String(event.success)}` : ''}`, event] as const))('%s is a valid xAPI 1.0.3 statement', (_name, event) => {
    expect(statementProblems(of(event))).toEqual([]);
  });

  it('the actor is an account on this server with the learner id, never an e-mail; the display name when there is one', () => {
    const statement = of(events[0]!);
    expect(statement.actor).toEqual({ objectType: 'Agent', name: 'Ada', account: { homePage: publicUrl, name: 'lrn_abc' } });
    expect(JSON.stringify(statement)).not.toMatch(/mbox|mailto|@/);
    expect(statementOf(events[0]!, { id, publicUrl, actor: { learnerId: 'lrn_abc' } }).actor).toEqual({ objectType: 'Agent', account: { homePage: publicUrl, name: 'lrn_abc' } });
  });

  it('launched: the ADL verb, the quiz or lab page as the activity, the run as registration, the event time', () => {
    const statement = of(events[0]!);
    expect(statement).toMatchObject({
      id,
      verb: { id: 'http://adlnet.gov/expapi/verbs/launched', display: { 'en-US': 'launched' } },
      object: { objectType: 'Activity', id: `${publicUrl}/quizzes/audit-basics`, definition: { name: { en: 'Audit basics' }, type: 'http://adlnet.gov/expapi/activities/assessment' } },
      context: { registration: registrationOf(publicUrl, 'att_1'), platform: 'irlab', extensions: { [`${publicUrl}/xapi/extensions/run-id`]: 'att_1' } },
      timestamp: at,
    });
    expect(statement.result).toBeUndefined();
    expect(of(events[1]!).object).toMatchObject({ id: `${publicUrl}/labs/l18`, definition: { type: 'http://adlnet.gov/expapi/activities/simulation' } });
  });

  it('answered: the question as a sub-activity of the quiz, success only when the quiz checked it', () => {
    const unchecked = of(events[2]!);
    expect(unchecked.verb.id).toBe('http://adlnet.gov/expapi/verbs/answered');
    expect(unchecked.object.id).toBe(`${publicUrl}/quizzes/audit-basics#question-q-verbs`);
    expect(unchecked.context.contextActivities?.parent[0]?.id).toBe(`${publicUrl}/quizzes/audit-basics`);
    expect(unchecked.result).toBeUndefined();
    expect(of(events[3]!).result).toEqual({ success: false });
  });

  it('passed step: the step as #step-<id> under the lab, the run score so far as an extension', () => {
    const statement = of(events[4]!);
    expect(statement.verb.id).toBe('http://adlnet.gov/expapi/verbs/passed');
    expect(statement.object).toEqual({ objectType: 'Activity', id: `${publicUrl}/labs/l18#step-audit-policy`, definition: { name: { en: 'Write an audit policy' }, type: 'http://adlnet.gov/expapi/activities/objective' } });
    expect(statement.context.contextActivities?.parent[0]?.id).toBe(`${publicUrl}/labs/l18`);
    expect(statement.result).toEqual({ success: true, completion: true, extensions: { [`${publicUrl}/xapi/extensions/run-score`]: { scaled: 0.25, raw: 1, min: 0, max: 4 } } });
  });

  it('passed and completed quiz: the score {scaled, raw, min, max}, success, completion', () => {
    expect(of(events[5]!).result).toEqual({ score: { scaled: 0.8, raw: 8, min: 0, max: 10 }, success: true });
    const completed = of(events[6]!);
    expect(completed.verb.id).toBe('http://adlnet.gov/expapi/verbs/completed');
    expect(completed.result).toEqual({ score: { scaled: 0.3, raw: 3, min: 0, max: 10 }, success: false, completion: true });
    expect(of(events[7]!).result).toEqual({ score: { scaled: 1, raw: 4, min: 0, max: 4 }, success: true, completion: true });
  });

  it('a registration is a UUID, the same for one run, another for another run or server', () => {
    expect(registrationOf(publicUrl, 'att_1')).toBe(registrationOf(publicUrl, 'att_1'));
    expect(registrationOf(publicUrl, 'att_1')).not.toBe(registrationOf(publicUrl, 'att_2'));
    expect(registrationOf(publicUrl, 'att_1')).not.toBe(registrationOf('https://other.example.org', 'att_1'));
    expect(registrationOf(publicUrl, 'att_1')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // RFC 9562's example of a v5 UUID: "www.example.com" in the DNS namespace.
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('odd scores stay valid: no points at all sends the scaled score alone, raw is kept within min..max', () => {
    expect(scoreOf({ scaled: 0, raw: 0, max: 0 })).toEqual({ scaled: 0 });
    expect(scoreOf({ scaled: 1.2, raw: 12, max: 10 })).toEqual({ scaled: 1, raw: 10, min: 0, max: 10 });
    expect(scoreOf({ scaled: Number.NaN, raw: -1, max: 10 })).toEqual({ scaled: 0, raw: 0, min: 0, max: 10 });
    const statement = of({ type: 'completed', learnerId: 'lrn_abc', activity: quiz, runId: 'att_1', score: { scaled: 0, raw: 0, max: 0 }, success: false, at });
    expect(statementProblems(statement)).toEqual([]);
  });

  it('slugs and ids with odd characters still make one valid IRI', () => {
    const statement = of({ type: 'answered', learnerId: 'lrn_abc', activity: { ...quiz, slug: 'a b' }, runId: 'att_1', question: { id: 'q#1 x' }, at });
    expect(statement.object.id).toBe(`${publicUrl}/quizzes/a%20b#question-q%231%20x`);
    expect(statementProblems(statement)).toEqual([]);
  });
});
