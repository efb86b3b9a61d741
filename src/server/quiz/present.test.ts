import { describe, expect, it } from 'vitest';
import { quizSchema, type Question } from '../../schemas/quiz.ts';
import { AnswerError, decodeAnswer, drawQuestions, encodeAnswer, tokensFor, viewQuestion } from './present.ts';

const explanation = 'Because the lesson says so, in its own section.';
const single = (id: string, pool?: string) => ({ id, type: 'single', section: 's', prompt: `Question ${id} asks this?`, explanation, options: [{ id: 'a', text: 'A' }, { id: 'b', text: 'B' }, { id: 'c', text: 'C' }], correct: 'a', ...(pool ? { pool } : {}) });
const quiz = quizSchema.parse({
  title: 'Presentation quiz',
  lesson: 'l',
  pools: [{ id: 'p', draw: 2 }],
  questions: [single('fixed-1'), single('p1', 'p'), single('fixed-2'), single('p2', 'p'), single('p3', 'p'), single('p4', 'p')],
});
const matching = quizSchema.parse({
  title: 'Matching quiz',
  lesson: 'l',
  questions: [{ id: 'm', type: 'matching', section: 's', prompt: 'Match the signal to the field.', explanation, pairs: [{ id: 'exec', text: 'Exec', match: 'exec' }, { id: 'rbac', text: 'RBAC', match: 'crb' }], choices: [{ id: 'exec', text: 'pods/exec' }, { id: 'crb', text: 'clusterrolebindings' }] }],
}).questions[0]! as Question;

describe('drawing questions', () => {
  it('always asks unpooled questions, draws the pool size, keeps authored order', () => {
    const seen = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const ids = drawQuestions(quiz, `seed-${i}`).map((q) => q.id);
      expect(ids).toHaveLength(4);
      expect(ids).toContain('fixed-1');
      expect(ids).toContain('fixed-2');
      expect(ids).toEqual([...ids].sort((x, y) => quiz.questions.findIndex((q) => q.id === x) - quiz.questions.findIndex((q) => q.id === y)));
      for (const id of ids) seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    // Each of the four pooled questions is drawn about half the time.
    for (const id of ['p1', 'p2', 'p3', 'p4']) expect(seen.get(id)).toBeGreaterThan(140);
    expect(drawQuestions(quiz, 'same')).toEqual(drawQuestions(quiz, 'same'));
  });

  it('shuffles the question order per seed when asked to', () => {
    const shuffled = { ...quiz, shuffleQuestions: true, pools: [], questions: quiz.questions.map((q) => ({ ...q, pool: undefined })) };
    const orders = new Set(Array.from({ length: 30 }, (_, i) => drawQuestions(shuffled, `s${i}`).map((q) => q.id).join()));
    expect(orders.size).toBeGreaterThan(20);
    expect(drawQuestions(shuffled, 'x')).toEqual(drawQuestions(shuffled, 'x'));
  });
});

describe('option tokens', () => {
  it('hide authored ids, differ per attempt, and stay the same within one', () => {
    const q = quiz.questions[0]!;
    const view = viewQuestion(q, 'seed-a', 1);
    expect(JSON.stringify(view)).not.toMatch(/"id":"[abc]"/);
    expect(viewQuestion(q, 'seed-a', 1)).toEqual(view);
    const other = viewQuestion(q, 'seed-b', 1);
    expect(view.type === 'single' && other.type === 'single' && view.options.map((o) => o.id)).not.toEqual(other.type === 'single' && other.options.map((o) => o.id));
  });

  it('give a pair and a choice with the same authored id different tokens', () => {
    const tokens = tokensFor(matching, 'seed');
    expect(tokens.get('pair:exec')).not.toBe(tokens.get('choice:exec'));
    const view = viewQuestion(matching, 'seed', 1);
    if (view.type !== 'matching') throw new Error('expected matching');
    const ids = [...view.pairs, ...view.choices].map((o) => o.id);
    expect(new Set(ids).size).toBe(4);
  });

  it('decode answers back to authored ids and refuse tokens of the wrong kind', () => {
    const tokens = tokensFor(matching, 'seed');
    const answer = { [tokens.get('pair:exec')!]: tokens.get('choice:exec')!, [tokens.get('pair:rbac')!]: tokens.get('choice:crb')! };
    expect(decodeAnswer(matching, 'seed', answer)).toEqual({ exec: 'exec', rbac: 'crb' });
    expect(encodeAnswer(matching, 'seed', { exec: 'exec', rbac: 'crb' })).toEqual(answer);
    expect(() => decodeAnswer(matching, 'seed', { [tokens.get('choice:exec')!]: tokens.get('choice:crb')! })).toThrow(AnswerError);
    expect(() => decodeAnswer(matching, 'other-seed', answer)).toThrow(/is not a pair of question m/);
  });
});
