import { singleChoiceSchema } from '../../../schemas/quiz.ts';
import type { QuestionType } from '../question-type.ts';
import { choiceView, gradeSingle, singleAnswerSchema } from './choice.ts';

/** Exactly one right option; radio buttons. */
export const singleChoice: QuestionType<'single'> = {
  type: 'single',
  schema: singleChoiceSchema,
  answerSchema: () => singleAnswerSchema(),
  view: (q, context) => ({ type: 'single', options: choiceView(q, context) }),
  grade: (q, answer) => gradeSingle(q, q.correct, answer),
};
