import type { APIRoute } from 'astro';
import { z } from 'zod';
import { currentLearner } from '../../server/learners/session.ts';
import { readBody, respond } from '../../server/quiz/http.ts';

export const prerender = false;

/** The learner behind this browser (no session yet: `{}`). */
export const GET: APIRoute = ({ cookies, url, locals }) =>
  respond(async () => {
    const learner = await currentLearner(locals.services.learners, cookies, url, { create: false });
    return learner ? { id: learner.id, displayName: learner.displayName } : {};
  });

const profile = z.strictObject({
  /** Shown to instructors and team mates; empty to go back to anonymous. */
  displayName: z.string().trim().max(60),
});

/** Sets the display name, creating the learner if this browser has none yet. */
export const PUT: APIRoute = (context) =>
  respond(async () => {
    const { displayName } = await readBody(context, profile);
    const learner = (await currentLearner(context.locals.services.learners, context.cookies, context.url, { create: true }))!;
    const updated = (await context.locals.services.learners.setDisplayName(learner.id, displayName || undefined))!;
    return { id: updated.id, displayName: updated.displayName };
  });
