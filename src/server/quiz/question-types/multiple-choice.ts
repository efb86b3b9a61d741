import { multipleChoiceSchema } from '../../../schemas/quiz.ts';
import type { QuestionType } from '../question-type.ts';
import { choiceView, gradeMultiple, multipleAnswerSchema } from './choice.ts';

/** Several right options, partial credit; checkboxes. */
export const multipleChoice: QuestionType<'multiple'> = {
  type: 'multiple',
  schema: multipleChoiceSchema,
  answerSchema: (q) => multipleAnswerSchema(q),
  view: (q, context) => ({ type: 'multiple', options: choiceView(q, context) }),
  grade: (q, answer) => gradeMultiple(q, q.correct, answer),
};
