import type { APIRoute } from 'astro';
import { readJsonObject } from '../../../server/http/endpoint.ts';
import { classRespond, json, mustBeInstructor } from '../../../server/classes/http.ts';
import { manages } from '../../../server/classes/instructor.ts';

export const prerender = false;

/** Every class (instructors). */
export const GET: APIRoute = ({ request, cookies, locals }) =>
  classRespond('GET /api/classes', async () => {
    const instructor = await mustBeInstructor(locals.services, request, cookies);
    return json({ classes: (await locals.services.classes.list()).filter((k) => manages(instructor, k)) });
  });

/** A new class: {name} → the class with its join code. */
export const POST: APIRoute = ({ request, cookies, locals }) =>
  classRespond('POST /api/classes', async () => {
    const instructor = await mustBeInstructor(locals.services, request, cookies);
    const body = await readJsonObject(request);
    return json(await locals.services.classes.create(body.name, instructor.id), 201);
  });
