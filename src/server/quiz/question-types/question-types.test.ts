import { describe, expect, it } from 'vitest';
import { questionSchema, type Question, type QuestionOf } from '../../../schemas/quiz.ts';
import { seededRandom } from '../../../lib/seeded-random.ts';
import { questionTypes } from './index.ts';

const base = { prompt: 'A question long enough', explanation: 'An explanation that is long enough.', section: 'intro' };
function q<T extends Question['type']>(fields: Record<string, unknown> & { type: T }): QuestionOf<T> {
  return questionSchema.parse({ id: 'q', ...base, ...fields }) as QuestionOf<T>;
}
const opts = (...ids: string[]) => ids.map((id) => ({ id, text: `Option ${id}` }));

describe('single choice', () => {
  const question = q({ type: 'single', options: [...opts('a', 'b'), { id: 'c', text: 'Option c', feedback: 'C is a trap.' }], correct: 'a' });
  it('is all or nothing', () => {
    expect(questionTypes.single.grade(question, 'a')).toMatchObject({ correct: true, score: 1 });
    expect(questionTypes.single.grade(question, 'b')).toMatchObject({ correct: false, score: 0 });
    expect(questionTypes.single.grade(question, 'b').feedback).toContain('the answer is “Option a”');
  });
  it('adds the chosen option\'s own feedback and reveals the key only in the grade', () => {
    const grade = questionTypes.single.grade(question, 'c');
    expect(grade.feedback).toContain('C is a trap.');
    expect(grade.solution).toEqual({ type: 'choice', correct: ['a'] });
    expect(JSON.stringify(questionTypes.single.view(question, { random: seededRandom('s') }))).not.toMatch(/correct|trap/);
  });
  it('grades a missing answer as wrong', () => {
    expect(questionTypes.single.grade(question, '')).toMatchObject({ correct: false, score: 0, feedback: expect.stringContaining('No option chosen') });
  });
});

describe('multiple choice: partial credit', () => {
  const question = q({ type: 'multiple', options: opts('a', 'b', 'c', 'd', 'e'), correct: ['a', 'b', 'c'] });
  const grade = (picks: string[]) => questionTypes.multiple.grade(question, picks);
  it('gives full credit only for exactly the right set', () => {
    expect(grade(['c', 'a', 'b'])).toMatchObject({ correct: true, score: 1 });
  });
  it('gives a share per right pick and takes one away per wrong pick', () => {
    expect(grade(['a', 'b']).score).toBeCloseTo(2 / 3);
    expect(grade(['a']).score).toBeCloseTo(1 / 3);
    expect(grade(['a', 'b', 'd']).score).toBeCloseTo(1 / 3);
    expect(grade(['a', 'b', 'c', 'd']).score).toBeCloseTo(2 / 3);
    expect(grade(['a', 'b', 'd']).correct).toBe(false);
  });
  it('never goes below zero, so ticking everything earns nothing extra', () => {
    expect(grade(['d', 'e']).score).toBe(0);
    expect(grade(['a', 'd', 'e']).score).toBe(0);
    expect(grade([]).score).toBe(0);
  });
  it('says what was missed', () => {
    expect(grade(['a', 'd']).feedback).toMatch(/1 of the 3 right options and 1 wrong one.*Missed: “Option b”, “Option c”/);
  });
});

describe('ordering', () => {
  const question = q({ type: 'ordering', items: opts('one', 'two', 'three', 'four') });
  it('credits the share of items in the right position', () => {
    expect(questionTypes.ordering.grade(question, ['one', 'two', 'three', 'four'])).toMatchObject({ correct: true, score: 1 });
    expect(questionTypes.ordering.grade(question, ['two', 'one', 'three', 'four'])).toMatchObject({ correct: false, score: 0.5 });
    expect(questionTypes.ordering.grade(question, ['four', 'three', 'two', 'one']).score).toBe(0);
  });
  it('never shows the items already in the right order', () => {
    for (let i = 0; i < 200; i++) {
      const view = questionTypes.ordering.view(question, { random: seededRandom(`o${i}`) });
      expect(view.items.map((x) => x.id)).not.toEqual(['one', 'two', 'three', 'four']);
    }
  });
  it('refuses an answer that is not a permutation', () => {
    const schema = questionTypes.ordering.answerSchema(question);
    expect(schema.safeParse(['one', 'one', 'two', 'three']).success).toBe(false);
    expect(schema.safeParse(['one', 'two']).success).toBe(false);
    expect(schema.safeParse(['four', 'one', 'two', 'three']).success).toBe(true);
  });
});

describe('matching', () => {
  const question = q({
    type: 'matching',
    pairs: [
      { id: 'p1', text: 'Secret enumeration', match: 'gets' },
      { id: 'p2', text: 'RBAC escalation', match: 'crb' },
      { id: 'p3', text: 'Pod exec abuse', match: 'exec' },
      { id: 'p4', text: 'Another get', match: 'gets' },
    ],
    choices: opts('gets', 'crb', 'exec', 'distractor'),
  });
  it('credits the share matched, choices may be reused', () => {
    expect(questionTypes.matching.grade(question, { p1: 'gets', p2: 'crb', p3: 'exec', p4: 'gets' })).toMatchObject({ correct: true, score: 1 });
    const half = questionTypes.matching.grade(question, { p1: 'gets', p2: 'exec', p3: 'distractor', p4: 'gets' });
    expect(half).toMatchObject({ correct: false, score: 0.5 });
    expect(half.feedback).toContain('“RBAC escalation”, “Pod exec abuse”');
    expect(questionTypes.matching.grade(question, { p1: 'gets' }).score).toBe(0.25);
  });
});

describe('short text', () => {
  const command = q({ type: 'text', accept: ['kubectl label pod compromised-pod quarantine=true -n production'], normalize: 'command' });
  const plain = q({ type: 'text', accept: ['system:serviceaccount:production:web-app'], patterns: ['system:serviceaccount:production:web-?app'] });
  it('accepts the command however the flags are ordered or spelled', () => {
    for (const answer of ['kubectl -n production label pod compromised-pod quarantine=true', 'kubectl label pods/compromised-pod quarantine=true --namespace=production', '  kubectl label pod compromised-pod "quarantine=true" -n production  ']) {
      expect(questionTypes.text.grade(command, answer)).toMatchObject({ correct: true, score: 1 });
    }
    expect(questionTypes.text.grade(command, 'kubectl label pod compromised-pod quarantine=true')).toMatchObject({ correct: false, score: 0 });
    expect(questionTypes.text.grade(command, '').feedback).toContain('No answer');
  });
  it('accepts patterns and ignores case and spacing', () => {
    expect(questionTypes.text.grade(plain, 'System:ServiceAccount:production:webapp ').correct).toBe(true);
    expect(questionTypes.text.grade(plain, 'system:serviceaccount:web-app').correct).toBe(false);
  });
  it('anchors patterns to the whole answer', () => {
    expect(questionTypes.text.grade(plain, 'not system:serviceaccount:production:web-app at all').correct).toBe(false);
  });
  it('shows the first accepted answer as the model answer', () => {
    expect(questionTypes.text.grade(plain, 'x').solution).toEqual({ type: 'text', answer: 'system:serviceaccount:production:web-app' });
  });
});

describe('audit-event questions', () => {
  const event = {
    kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: 'a1', stage: 'ResponseComplete',
    requestURI: '/api/v1/namespaces/x/secrets', verb: 'list', user: { username: 'u' }, sourceIPs: ['10.0.0.1'],
    requestReceivedTimestamp: '2026-11-27T09:00:00.000000Z', stageTimestamp: '2026-11-27T09:00:00.100000Z',
  };
  it('grades as single choice with one key, and shows the event JSON', () => {
    const question = q({ type: 'audit-event', event, options: opts('a', 'b'), correct: 'b' });
    expect(questionTypes['audit-event'].grade(question, 'b').correct).toBe(true);
    const view = questionTypes['audit-event'].view(question, { random: seededRandom('e') });
    expect(JSON.parse(view.event)).toEqual(event);
    expect(view.multiple).toBe(false);
  });
  it('grades as multiple choice with partial credit when the key is a list', () => {
    const question = q({ type: 'audit-event', event, options: opts('a', 'b', 'c', 'd'), correct: ['a', 'c'] });
    expect(questionTypes['audit-event'].grade(question, ['a']).score).toBe(0.5);
    expect(questionTypes['audit-event'].view(question, { random: seededRandom('e') }).multiple).toBe(true);
  });
});
