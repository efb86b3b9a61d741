import type { APIRoute } from 'astro';
import { readText } from '../../../../server/http/endpoint.ts';
import { currentLearner } from '../../../../server/learners/session.ts';
import { labRespond } from '../../../../server/lab/http.ts';
import { MAX_NOTES_BYTES } from '../../../../server/lab/run-records.ts';

export const prerender = false;

/** The learner's case notes for this lab (their newest run's): { text, updatedAt? }. */
export const GET: APIRoute = ({ params, cookies, url, locals }) =>
  labRespond(locals.services.labs, async (service) => {
    const learner = await currentLearner(locals.services.learners, cookies, url, { create: false });
    return learner ? service.notes(learner.id, params.slug ?? '') : { text: '' };
  });

/**
 * Saves the notes: the body is the text itself (text/plain), so the page's last save on leaving
 * fits a keepalive request. A body past the cap is refused whole, with its size and the cap.
 */
export const PUT: APIRoute = ({ params, cookies, url, locals, request }) =>
  labRespond(locals.services.labs, async (service) => {
    const learner = (await currentLearner(locals.services.learners, cookies, url, { create: true }))!;
    // A little over the cap is read so that the refusal can say how large the notes were.
    const text = await readText(request, MAX_NOTES_BYTES * 2);
    return service.saveNotes(learner.id, params.slug ?? '', text);
  });
