import type { APIRoute } from 'astro';
import { ClassError } from '../../../../server/classes/classes.ts';
import { classRespond, json, labShellOf, mustBeInstructor, mustGetClass } from '../../../../server/classes/http.ts';
import { terminalSocketPath } from '../../../../lib/terminal-protocol.ts';

export const prerender = false;

/** ?learner=<id> → the learner's lab terminal to watch read-only (the socket checks the instructor again). */
export const GET: APIRoute = ({ params, request, cookies, locals, url }) =>
  classRespond('GET /api/classes/<id>/watch', async () => {
    const instructor = await mustBeInstructor(locals.services, request, cookies);
    const klass = await mustGetClass(locals.services, params.id, instructor);
    const learner = url.searchParams.get('learner') ?? '';
    if (!(await locals.services.classes.isMember(klass.id, learner))) throw new ClassError('that learner is not in this class: pick one from the dashboard', 404);
    const shell = labShellOf(locals.services.terminals, learner);
    if (!shell) throw new ClassError('this learner has no lab terminal open now: it appears once they start a lab and open its terminal', 409);
    return json({ sessionId: shell.id, socketPath: `${terminalSocketPath(shell.id)}?watch=1` });
  });
