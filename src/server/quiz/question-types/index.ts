/** Every question type by name: the only place that lists them. */
import type { Question, QuestionOf } from '../../../schemas/quiz.ts';
import type { QuestionType } from '../question-type.ts';
import { auditEventQuestion } from './audit-event.ts';
import { matching } from './matching.ts';
import { multipleChoice } from './multiple-choice.ts';
import { ordering } from './ordering.ts';
import { shortText } from './short-text.ts';
import { singleChoice } from './single-choice.ts';

export const questionTypes: { [T in Question['type']]: QuestionType<T> } = {
  single: singleChoice,
  multiple: multipleChoice,
  ordering,
  matching,
  text: shortText,
  'audit-event': auditEventQuestion,
};

/** The type handler for a question, typed so its methods accept that question. */
export function questionTypeOf<T extends Question['type']>(question: QuestionOf<T>): QuestionType<T> {
  return questionTypes[question.type as T];
}
