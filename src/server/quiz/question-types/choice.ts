/**
 * Single choice, multiple choice (partial credit) and the choice part of audit-event questions
 * share one grader: picks are compared with the set of correct option ids.
 */
import { z } from 'zod';
import { shuffle } from '../../../lib/seeded-random.ts';
import type { AnswerValue } from '../../../lib/quiz-view.ts';
import { creditText, type Grade, type ViewContext } from '../question-type.ts';

export interface ChoiceLike {
  options: Array<{ id: string; text: string; feedback?: string | undefined }>;
  shuffle: boolean;
}

export function choiceView(question: ChoiceLike, context: ViewContext) {
  const options = question.options.map((o) => ({ id: o.id, text: o.text }));
  return question.shuffle ? shuffle(options, context.random) : options;
}

export function singleAnswerSchema(): z.ZodType<AnswerValue> {
  return z.string().min(1, 'choose one option');
}

export function multipleAnswerSchema(question: ChoiceLike): z.ZodType<AnswerValue> {
  return z
    .array(z.string().min(1))
    .max(question.options.length)
    .refine((picks) => new Set(picks).size === picks.length, 'an option is picked twice');
}

const quote = (text: string) => `“${text}”`;

function optionFeedback(question: ChoiceLike, picks: readonly string[]): string {
  return question.options
    .filter((o) => picks.includes(o.id) && o.feedback)
    .map((o) => o.feedback)
    .join(' ');
}

/** One right option: all or nothing. */
export function gradeSingle(question: ChoiceLike, correct: string, answer: AnswerValue): Grade {
  const pick = typeof answer === 'string' ? answer : undefined;
  const chosen = question.options.find((o) => o.id === pick);
  const right = question.options.find((o) => o.id === correct);
  const ok = pick === correct;
  const extra = optionFeedback(question, pick ? [pick] : []);
  const feedback = ok
    ? `Correct: ${quote(right?.text ?? correct)}.`
    : chosen
      ? `Not quite. You chose ${quote(chosen.text)}; the answer is ${quote(right?.text ?? correct)}.`
      : `No option chosen; the answer is ${quote(right?.text ?? correct)}.`;
  return { correct: ok, score: ok ? 1 : 0, feedback: extra ? `${feedback} ${extra}` : feedback, solution: { type: 'choice', correct: [correct] } };
}

/**
 * Several right options. Each right pick earns 1/(number right); each wrong pick takes the same
 * away, floored at zero, so ticking everything earns nothing.
 */
export function gradeMultiple(question: ChoiceLike, correct: readonly string[], answer: AnswerValue): Grade {
  const picks = Array.isArray(answer) ? answer : typeof answer === 'string' ? [answer] : [];
  const hits = picks.filter((p) => correct.includes(p)).length;
  const wrong = picks.filter((p) => !correct.includes(p)).length;
  const missed = correct.length - hits;
  const score = Math.max(0, (hits - wrong) / correct.length);
  const ok = hits === correct.length && wrong === 0;
  const parts = [`You picked ${hits} of the ${correct.length} right options`];
  if (wrong) parts.push(`and ${wrong} wrong one${wrong === 1 ? '' : 's'}`);
  let feedback = ok ? `Correct: all ${correct.length} right options and nothing else.` : `${parts.join(' ')}: ${creditText(score)}.`;
  if (!ok && missed) {
    const names = question.options.filter((o) => correct.includes(o.id) && !picks.includes(o.id)).map((o) => quote(o.text));
    feedback += ` Missed: ${names.join(', ')}.`;
  }
  const extra = optionFeedback(question, picks);
  return { correct: ok, score, feedback: extra ? `${feedback} ${extra}` : feedback, solution: { type: 'choice', correct: [...correct] } };
}
