import { z } from 'zod';
import { orderingSchema } from '../../../schemas/quiz.ts';
import { shuffle } from '../../../lib/seeded-random.ts';
import { creditText, type QuestionType } from '../question-type.ts';

/**
 * Put items in order. Authored in the right order, shown shuffled and never already solved.
 * Credit is the share of items in their right position.
 */
export const ordering: QuestionType<'ordering'> = {
  type: 'ordering',
  schema: orderingSchema,
  answerSchema: (q) =>
    z
      .array(z.string())
      .length(q.items.length, `list all ${q.items.length} items, each once`)
      .refine((order) => new Set(order).size === order.length, 'an item appears twice'),
  view: (q, context) => {
    const items = q.items.map((i) => ({ id: i.id, text: i.text }));
    let shown = shuffle(items, context.random);
    // A shuffle that happens to be the answer would give the point away: rotate it by one.
    if (shown.every((item, i) => item.id === items[i]!.id)) shown = [...shown.slice(1), shown[0]!];
    return { type: 'ordering', items: shown };
  },
  grade: (q, answer) => {
    const order = Array.isArray(answer) ? answer : [];
    const right = q.items.filter((item, i) => order[i] === item.id).length;
    const score = right / q.items.length;
    const ok = right === q.items.length;
    return {
      correct: ok,
      score,
      feedback: ok ? 'Correct: every item is in its place.' : `${right} of ${q.items.length} items are in the right position: ${creditText(score)}.`,
      solution: { type: 'ordering', order: q.items.map((i) => i.id) },
    };
  },
};
