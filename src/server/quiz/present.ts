/**
 * Turns a quiz and an attempt seed into what the learner sees, and the learner's answer back
 * into authored ids. Everything here is a pure function of (quiz, seed): the same attempt looks
 * the same after a reload, and a new attempt (new seed) is shuffled differently.
 */
import type { Question, Quiz } from '../../schemas/quiz.ts';
import type { AnswerValue, QuestionView, Solution } from '../../lib/quiz-view.ts';
import { hashString, sample, seededRandom, shuffle } from '../../lib/seeded-random.ts';
import { questionTypeOf } from './question-types/index.ts';
import type { AuthoredSolution } from './question-type.ts';

/** The questions an attempt asks, in order: unpooled ones always, `draw` from each pool. */
export function drawQuestions(quiz: Quiz, seed: string): Question[] {
  const random = seededRandom(`${seed}:pools`);
  const drawn = new Set<string>();
  for (const pool of quiz.pools) {
    const members = quiz.questions.filter((q) => q.pool === pool.id);
    for (const q of sample(members, pool.draw, random)) drawn.add(q.id);
  }
  const asked = quiz.questions.filter((q) => !q.pool || drawn.has(q.id));
  return quiz.shuffleQuestions ? shuffle(asked, seededRandom(`${seed}:questions`)) : asked;
}

/** The lists in a question whose ids the browser must never see, and the kind of id each holds. */
const TOKENIZED = { options: 'option', items: 'option', pairs: 'pair', choices: 'choice' } as const;
type Kind = (typeof TOKENIZED)[keyof typeof TOKENIZED];

/**
 * Opaque per-attempt names for a question's option, item, pair and choice ids, so that the
 * browser never sees authored ids (an id such as `right-answer` would give it away). The kind is
 * part of the name: a pair and a choice that share an authored id (`exec`) must not share a
 * token, or the view would reveal the match.
 */
export function tokensFor(question: Question, seed: string): Map<string, string> {
  const ids: Array<[Kind, string]> = [];
  for (const [list, kind] of Object.entries(TOKENIZED) as Array<[keyof typeof TOKENIZED, Kind]>) {
    const items = (question as unknown as Record<string, Array<{ id: string }> | undefined>)[list];
    for (const item of items ?? []) ids.push([kind, item.id]);
  }
  for (let length = 8; ; length += 4) {
    const tokens = new Map(ids.map(([kind, id]) => [`${kind}:${id}`, `t${hashString(`${seed}:${question.id}:${kind}:${id}`).toString(36).padStart(11, '0').slice(0, length)}`]));
    if (new Set(tokens.values()).size === tokens.size || length > 11) return tokens;
  }
}

/** Maps every id in an answer; in a matching answer keys are pairs and values are choices. */
function mapAnswer(value: AnswerValue, map: (kind: Kind, s: string) => string): AnswerValue {
  if (typeof value === 'string') return map('option', value);
  if (Array.isArray(value)) return value.map((v) => map('option', v));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [map('pair', k), map('choice', v)]));
}

export function viewQuestion(question: Question, seed: string, number: number): QuestionView {
  const type = questionTypeOf(question);
  const fields = type.view(question, { random: seededRandom(`${seed}:${question.id}:view`) }) as Record<string, unknown>;
  const tokens = tokensFor(question, seed);
  for (const [list, kind] of Object.entries(TOKENIZED)) {
    if (!(list in fields)) continue;
    fields[list] = (fields[list] as Array<{ id: string; text: string }>).map((o) => ({ id: tokens.get(`${kind}:${o.id}`) ?? o.id, text: o.text }));
  }
  return { id: question.id, number, prompt: question.prompt, points: question.points, ...fields } as QuestionView;
}

export class AnswerError extends Error {
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.hint = hint;
  }
}

/** A learner's answer in tokens → authored ids; unknown tokens are refused. */
export function decodeAnswer(question: Question, seed: string, answer: AnswerValue): AnswerValue {
  const tokens = tokensFor(question, seed);
  if (tokens.size === 0) return answer;
  const byToken = new Map([...tokens].map(([key, token]) => [token, key]));
  return mapAnswer(answer, (kind, token) => {
    const key = byToken.get(token);
    if (key === undefined || !key.startsWith(`${kind}:`)) throw new AnswerError(`"${token}" is not ${kind === 'option' ? 'an option' : `a ${kind}`} of question ${question.id}`, 'reload the quiz; the page may be from an older attempt');
    return key.slice(kind.length + 1);
  });
}

/** Authored ids → this attempt's tokens, for showing the solution and the learner's answer. */
export function encodeAnswer(question: Question, seed: string, answer: AnswerValue): AnswerValue {
  const tokens = tokensFor(question, seed);
  return tokens.size === 0 ? answer : mapAnswer(answer, (kind, id) => tokens.get(`${kind}:${id}`) ?? id);
}

export function encodeSolution(question: Question, seed: string, solution: AuthoredSolution): Solution {
  const tokens = tokensFor(question, seed);
  const t = (kind: Kind, id: string) => tokens.get(`${kind}:${id}`) ?? id;
  switch (solution.type) {
    case 'choice':
      return { type: 'choice', correct: solution.correct.map((id) => t('option', id)) };
    case 'ordering':
      return { type: 'ordering', order: solution.order.map((id) => t('option', id)) };
    case 'matching':
      return { type: 'matching', pairs: Object.fromEntries(Object.entries(solution.pairs).map(([k, v]) => [t('pair', k), t('choice', v)])) };
    case 'text':
      return solution;
  }
}
