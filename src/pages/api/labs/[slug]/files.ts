import type { APIRoute } from 'astro';
import { currentLearner } from '../../../../server/learners/session.ts';
import { labRespond } from '../../../../server/lab/http.ts';

export const prerender = false;

/**
 * The learner's workspace, read-only: without `path` the list of its files, with `path` one
 * file's text (or that it is binary, or why it is not read). Only the requester's own workspace.
 */
export const GET: APIRoute = ({ cookies, url, locals }) =>
  labRespond(locals.services.labs, async (service) => {
    const learner = await currentLearner(locals.services.learners, cookies, url, { create: false });
    const wanted = url.searchParams.get('path');
    if (!learner) return wanted === null ? { entries: [], truncated: false } : { path: wanted, kind: 'refused', reason: `${wanted} is missing (there is no workspace yet)` };
    return wanted === null ? service.files(learner.id) : service.file(learner.id, wanted);
  });
