/** Shared plumbing for the quiz endpoints (the engine is `Astro.locals.services.quizzes()`): JSON in and out, errors as ApiError. */
import type { APIContext } from 'astro';
import type { z } from 'zod';
import type { ApiError } from '../../lib/quiz-view.ts';
import { httpStatusOf } from '../../lib/error-status.ts';
import { problemsFromZod } from '../content/friendly-errors.ts';
import { errorResponse, readJsonValue } from '../http/endpoint.ts';
import { QuizError } from './attempts.ts';

export function json(data: unknown, status = 200): Response {
  return new Response(JSON.stringify(data), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  });
}

/** A QuizError's problems (whichever copy of the class made it: matched by its status brand). */
function problemsOf(error: unknown): Pick<ApiError, 'problems'> {
  const problems = (error as Partial<QuizError>).problems;
  return Array.isArray(problems) ? { problems: problems.map((p) => ({ path: p.path, message: p.message, ...(p.hint ? { hint: p.hint } : {}) })) } : {};
}

/** Runs an endpoint body; an error with a status (QuizError...) becomes that status with a readable body, anything else a 500. */
export async function respond(run: () => Promise<unknown> | unknown): Promise<Response> {
  try {
    return json(await run());
  } catch (error) {
    return errorResponse(error, 'quiz endpoint', 'the server could not handle this request', problemsOf);
  }
}

/** The request's JSON body, validated with the friendly-error helper. */
export async function readBody<T>(context: APIContext, schema: z.ZodType<T>): Promise<T> {
  let raw: unknown;
  try {
    raw = await readJsonValue(context.request, 64 * 1024);
  } catch (error) {
    if (httpStatusOf(error) === 413) throw error;
    throw new QuizError(400, 'the request body is not JSON', 'send Content-Type: application/json with a JSON object');
  }
  const parsed = schema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw new QuizError(400, 'the request body is invalid', undefined, problemsFromZod('request body', schema, parsed.error.issues));
  return parsed.data;
}
