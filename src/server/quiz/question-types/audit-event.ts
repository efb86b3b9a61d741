import { auditEventQuestionSchema } from '../../../schemas/quiz.ts';
import type { QuestionType } from '../question-type.ts';
import { choiceView, gradeMultiple, gradeSingle, multipleAnswerSchema, singleAnswerSchema } from './choice.ts';

/**
 * "Read this audit event": the event JSON is shown exactly as the API server would write it
 * (pretty-printed), then a single- or multiple-choice question about what it means.
 */
export const auditEventQuestion: QuestionType<'audit-event'> = {
  type: 'audit-event',
  schema: auditEventQuestionSchema,
  answerSchema: (q) => (Array.isArray(q.correct) ? multipleAnswerSchema(q) : singleAnswerSchema()),
  view: (q, context) => ({
    type: 'audit-event',
    event: JSON.stringify(q.event, null, 2),
    multiple: Array.isArray(q.correct),
    options: choiceView(q, context),
  }),
  grade: (q, answer) => (Array.isArray(q.correct) ? gradeMultiple(q, q.correct, answer) : gradeSingle(q, q.correct, answer)),
};
