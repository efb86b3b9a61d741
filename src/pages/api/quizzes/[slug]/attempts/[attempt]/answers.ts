import type { APIRoute } from 'astro';
import { z } from 'zod';
import { currentLearner } from '../../../../../../server/learners/session.ts';
import { QuizError } from '../../../../../../server/quiz/attempts.ts';
import { readBody, respond } from '../../../../../../server/quiz/http.ts';

export const prerender = false;

const answerBody = z.strictObject({
  /** The question's id as the attempt view gives it. */
  questionId: z.string().min(1),
  /** Option token, list of tokens, token map or text, depending on the question type. */
  answer: z.union([z.string().max(2000), z.array(z.string().max(100)).max(20), z.record(z.string().max(100), z.string().max(100))], { error: 'an answer is a string (one option or typed text), a list of option ids, or an object mapping items to choices' }),
});

/** Saves an answer; with immediate feedback the response holds its grade and explanation. */
export const POST: APIRoute = (context) =>
  respond(async () => {
    const learner = await currentLearner(context.locals.services.learners, context.cookies, context.url, { create: false });
    if (!learner) throw new QuizError(401, 'no learner session', 'start the quiz first (your browser must accept cookies)');
    const body = await readBody(context, answerBody);
    return (await context.locals.services.quizzes()).answer(learner.id, context.params.slug ?? '', context.params.attempt ?? '', body.questionId, body.answer);
  });
