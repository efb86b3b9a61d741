import type { APIRoute } from 'astro';
import { readJsonObject } from '../../../../server/http/endpoint.ts';
import { ClassError } from '../../../../server/classes/classes.ts';
import { classRespond, json, mustBeInstructor, mustGetClass } from '../../../../server/classes/http.ts';

export const prerender = false;

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

function dueDate(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || !ISO_TIME.test(value) || Number.isNaN(Date.parse(value))) {
    throw new ClassError('"dueAt" must be a date and time with its zone, like 2026-12-08T17:00:00Z, or left out for no due date', 400);
  }
  return new Date(value).toISOString();
}

/** The class with its assignments and members (instructors). */
export const GET: APIRoute = ({ params, request, cookies, locals }) =>
  classRespond('GET /api/classes/<id>', async () => {
    const instructor = await mustBeInstructor(locals.services, request, cookies);
    const klass = await mustGetClass(locals.services, params.id, instructor);
    return json({ ...klass, assignments: await locals.services.classes.assignments(klass.id), members: await locals.services.classes.members(klass.id) });
  });

/**
 * One change, by `action`: rotate (a new join code), close, assign {kind, slug, dueAt?},
 * unassign {kind, slug}, message {text, learner?} (no learner: the whole class), stuck {seconds},
 * schedule {schedule: {startsAt, minutes, expectedLearners} | null} (warm pools are sized from it).
 */
export const POST: APIRoute = ({ params, request, cookies, locals }) =>
  classRespond('POST /api/classes/<id>', async () => {
    const instructor = await mustBeInstructor(locals.services, request, cookies);
    const { classes } = locals.services;
    const klass = await mustGetClass(locals.services, params.id, instructor);
    const body = await readJsonObject(request);
    switch (body.action) {
      case 'rotate':
        return json(await classes.rotate(klass.id));
      case 'close':
        return json(await classes.close(klass.id));
      case 'stuck':
        return json(await classes.setStuckAfter(klass.id, body.seconds));
      case 'schedule':
        return json(await classes.setSchedule(klass.id, body.schedule, locals.services.config.warmPlan.maxExpected));
      case 'assign':
      case 'unassign': {
        const slug = typeof body.slug === 'string' ? body.slug : '';
        if (body.kind === 'lab') {
          if (!(await locals.services.labContent()).some((l) => l.slug === slug)) throw new ClassError(`no lab is called ${JSON.stringify(slug.slice(0, 80))}: pick one from /labs`, 400);
        } else if (body.kind === 'quiz') {
          if (!(await locals.services.catalog()).get(slug)) throw new ClassError(`no quiz is called ${JSON.stringify(slug.slice(0, 80))}: pick one from /quizzes`, 400);
        } else {
          throw new ClassError('"kind" must be "lab" or "quiz"', 400);
        }
        if (body.action === 'assign') await classes.assign(klass.id, body.kind, slug, dueDate(body.dueAt));
        else await classes.unassign(klass.id, body.kind, slug);
        return json({ assignments: await classes.assignments(klass.id) });
      }
      case 'message': {
        if (body.learner !== undefined && typeof body.learner !== 'string') throw new ClassError('"learner" must be a learner id from the dashboard, or left out for the whole class', 400);
        return json(await classes.message(klass.id, body.learner, body.text), 201);
      }
      default:
        throw new ClassError('"action" must be one of rotate, close, assign, unassign, message, stuck, schedule', 400);
    }
  });
