import type { APIRoute } from 'astro';
import { ClassError } from '../../../../server/classes/classes.ts';
import { classRespond, json, labShellOf, mustBeInstructor, mustGetClass } from '../../../../server/classes/http.ts';
import { terminalSocketPath } from '../../../../lib/terminal-protocol.ts';

export const prerender = false;

/**
 * ?learner=<id> → the learner's lab terminal to watch read-only (the socket checks the instructor
 * again). The socket path names the learner too: with fronts and cells, a front routes the watch
 * to the learner's cell by it (cells/cluster-routes.ts `watcherOf`).
 */
export const GET: APIRoute = ({ params, request, cookies, locals, url }) =>
  classRespond('GET /api/classes/<id>/watch', async () => {
    const learner = url.searchParams.get('learner') ?? '';
    // On a cell, a front that checked the instructor and the class signed this watch of `learner`.
    if (locals.watching === undefined) {
      const instructor = await mustBeInstructor(locals.services, request, cookies);
      const klass = await mustGetClass(locals.services, params.id, instructor);
      if (!(await locals.services.classes.isMember(klass.id, learner))) throw new ClassError('that learner is not in this class: pick one from the dashboard', 404);
    } else if (locals.watching !== learner) throw new ClassError('this watch was signed for another learner', 403);
    const shell = labShellOf(locals.services.terminals, learner);
    if (!shell) throw new ClassError('this learner has no lab terminal open now: it appears once they start a lab and open its terminal', 409);
    return json({ sessionId: shell.id, socketPath: `${terminalSocketPath(shell.id)}?watch=1&learner=${encodeURIComponent(learner)}` });
  });
