import { z } from 'zod';
import { matchingSchema } from '../../../schemas/quiz.ts';
import { shuffle } from '../../../lib/seeded-random.ts';
import { creditText, type QuestionType } from '../question-type.ts';

/** Match each item to a choice (a select per item); credit is the share matched correctly. */
export const matching: QuestionType<'matching'> = {
  type: 'matching',
  schema: matchingSchema,
  answerSchema: () => z.record(z.string(), z.string()),
  view: (q, context) => ({
    type: 'matching',
    pairs: shuffle(
      q.pairs.map((p) => ({ id: p.id, text: p.text })),
      context.random,
    ),
    choices: shuffle(
      q.choices.map((c) => ({ id: c.id, text: c.text })),
      context.random,
    ),
  }),
  grade: (q, answer) => {
    const given = typeof answer === 'object' && !Array.isArray(answer) ? answer : {};
    const wrong = q.pairs.filter((p) => given[p.id] !== p.match);
    const score = (q.pairs.length - wrong.length) / q.pairs.length;
    const ok = wrong.length === 0;
    const feedback = ok
      ? `Correct: all ${q.pairs.length} matched.`
      : `${q.pairs.length - wrong.length} of ${q.pairs.length} matched correctly: ${creditText(score)}. Check ${wrong.map((p) => `“${p.text}”`).join(', ')}.`;
    return { correct: ok, score, feedback, solution: { type: 'matching', pairs: Object.fromEntries(q.pairs.map((p) => [p.id, p.match])) } };
  },
};
