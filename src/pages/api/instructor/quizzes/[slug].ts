import type { APIRoute } from 'astro';
import { requestAccess } from '../../../../server/instructors/access.ts';
import { QuizError } from '../../../../server/quiz/attempts.ts';
import { respond } from '../../../../server/quiz/http.ts';
import { quizReport } from '../../../../server/quiz/item-report.ts';

export const prerender = false;

/** Item statistics as JSON, for instructors (Authorization: Bearer <token>, or a signed-in instructor); ?class=<id>: that class's members only. */
export const GET: APIRoute = ({ params, request, cookies, locals, url }) =>
  respond(async () => {
    if (!(await requestAccess(locals.services, request, cookies)).instructor) {
      throw new QuizError(401, 'instructor token required', 'send Authorization: Bearer <token>; the token is IRLAB_INSTRUCTOR_TOKEN or the file instructor-token in the data directory');
    }
    // ?class=<id>: only that class's members.
    const klass = await locals.services.classes.get(url.searchParams.get('class') ?? '');
    const members = klass ? new Set((await locals.services.classes.members(klass.id)).map((m) => m.learnerId)) : undefined;
    return await quizReport(locals.services.db, (await locals.services.quizzes()).quizOf(params.slug ?? ''), members);
  });
