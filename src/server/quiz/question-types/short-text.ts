import { z } from 'zod';
import { shortTextSchema, type QuestionOf } from '../../../schemas/quiz.ts';
import { normalizeCommand, normalizeText } from '../normalize-answer.ts';
import type { QuestionType } from '../question-type.ts';

/** Every form of an answer that accepted answers and patterns are compared with. */
function forms(q: QuestionOf<'text'>, text: string): string[] {
  const plain = normalizeText(text, q.caseSensitive);
  return q.normalize === 'command' ? [normalizeCommand(text, q.caseSensitive), plain] : [plain];
}

export function acceptsText(q: QuestionOf<'text'>, text: string): boolean {
  const given = forms(q, text);
  if (q.accept.some((accepted) => forms(q, accepted)[0] === given[0])) return true;
  return q.patterns.some((pattern) => {
    const regex = new RegExp(`^(?:${pattern})$`, q.caseSensitive ? 'u' : 'iu');
    return given.some((form) => regex.test(form));
  });
}

/** A typed answer (one line or several), accepted after normalization. */
export const shortText: QuestionType<'text'> = {
  type: 'text',
  schema: shortTextSchema,
  answerSchema: () => z.string().max(2000, 'keep the answer under 2000 characters'),
  view: (q) => ({ type: 'text', multiline: q.multiline, ...(q.placeholder ? { placeholder: q.placeholder } : {}) }),
  grade: (q, answer) => {
    const text = typeof answer === 'string' ? answer : '';
    const ok = text.trim() !== '' && acceptsText(q, text);
    const feedback = ok
      ? 'Correct: your answer is accepted.'
      : text.trim() === ''
        ? 'No answer given. Compare with the model answer below.'
        : 'Not accepted. Compare your answer with the model answer below.';
    return { correct: ok, score: ok ? 1 : 0, feedback, solution: { type: 'text', answer: q.accept[0]! } };
  },
};
