/**
 * The class endpoints' plumbing (src/pages/api/classes/**): the instructor check, errors with
 * their status, the dashboard with an ETag, the learner's notices.
 *
 * The dashboard is polled with an ETag rather than pushed over Server-Sent Events: the stuck flag
 * changes with the clock, not with any event, so the server would have to re-evaluate on a timer
 * per open dashboard anyway; a conditional GET every few seconds costs one 304 when nothing
 * changed, holds no connection or state per viewer, survives proxies and reconnects as is, and the
 * view carries no clock (times in whole minutes), so an unchanged class keeps its ETag.
 */
import { createHash } from 'node:crypto';
import type { AstroCookies } from 'astro';
import type { Services } from '../app/services.ts';
import { errorResponse, json } from '../http/endpoint.ts';
import { SESSION_COOKIE } from '../learners/learners.ts';
import type { TerminalManager } from '../terminal/session-manager.ts';
import type { ClassNotices, DashboardView } from '../../lib/class-view.ts';
import { ClassError, type ClassRecord } from './classes.ts';
import { stepStanding } from '../lab/step-view.ts';
import { classDashboard, type StandingOf } from './dashboard.ts';
import { instructorOf, manages, type ClassInstructor } from './instructor.ts';

type ClassServices = Pick<Services, 'classes' | 'instructorToken' | 'learners' | 'roles' | 'db' | 'labContent' | 'catalog' | 'terminals' | 'config'> & Partial<Pick<Services, 'cells'>>;

/** A lab step's standing as the lab module computes it. */
export const standingOf = (services: Pick<Services, 'db'>): StandingOf => (run, step) => stepStanding(services.db, run, step);

/** Runs an endpoint's work; a branded error answers with its status, anything else 500 with one log line. */
export async function classRespond(where: string, work: () => Promise<Response> | Response): Promise<Response> {
  try {
    return await work();
  } catch (error) {
    return errorResponse(error, where, 'the class request failed');
  }
}

export async function mustBeInstructor(services: ClassServices, request: Request, cookies: AstroCookies): Promise<ClassInstructor> {
  const instructor = await instructorOf(services, request, cookies);
  if (!instructor) throw new ClassError('only an instructor may do this: sign in at /instructor with the instructor token (or send Authorization: Bearer <token>)', 401);
  return instructor;
}

/** The class, if this instructor manages it (another instructor's class is as unknown as a missing one). */
export async function mustGetClass(services: ClassServices, id: string | undefined, instructor: ClassInstructor): Promise<ClassRecord> {
  const found = await services.classes.get(id ?? '');
  const klass = found && manages(instructor, found) ? found : undefined;
  if (!klass) throw new ClassError(`no class has the id ${JSON.stringify((id ?? '').slice(0, 40))}: open it from /instructor/classes`, 404);
  return klass;
}

/** The learner's live lab shell (slot 1, not a drill's), if any. */
export function labShellOf(terminals: TerminalManager | null, learnerId: string) {
  return terminals?.list().find((s) => s.owner === learnerId && s.slot === 1 && !s.group && !s.exit);
}

export async function dashboardOf(services: ClassServices, klass: ClassRecord, now = new Date()): Promise<DashboardView> {
  const [labs, catalog] = await Promise.all([services.labContent(), services.catalog()]);
  // A front has no shells (its cells do): a learner placed on a live cell may have one to watch (the watch endpoint says if not).
  const placed = !services.terminals && services.cells ? await services.cells.placedOf((await services.classes.members(klass.id)).map((m) => m.learnerId)) : undefined;
  return classDashboard(klass, {
    store: services.db,
    standing: standingOf(services),
    classes: services.classes,
    labs,
    quizzes: catalog.all(),
    now,
    publicUrl: services.config.publicUrl,
    liveTerminal: (learnerId) => (placed ? placed.has(learnerId) : labShellOf(services.terminals, learnerId) !== undefined),
  });
}

/** The dashboard as JSON with a strong ETag of its content; 304 to a matching If-None-Match. */
export function dashboardResponse(view: DashboardView, request: Request): Response {
  const body = JSON.stringify(view);
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  const headers = { etag, 'cache-control': 'no-cache, private' };
  const wanted = request.headers.get('if-none-match');
  if (wanted && wanted.split(',').some((tag) => tag.trim() === etag)) return new Response(null, { status: 304, headers });
  return new Response(body, { status: 200, headers: { 'content-type': 'application/json; charset=utf-8', ...headers } });
}

/** What the learner's lab page shows: their instructors' messages and whether their shell is watched. */
export async function noticesOf(services: ClassServices, cookies: AstroCookies): Promise<ClassNotices> {
  const learner = await services.learners.fromSession(cookies.get(SESSION_COOKIE)?.value);
  if (!learner) return { watched: false, notices: [] };
  const shells = services.terminals?.list().filter((s) => s.owner === learner.id && !s.group) ?? [];
  return {
    watched: shells.some((s) => s.watcherCount > 0),
    notices: (await services.classes.noticesFor(learner.id)).map(({ id, className, toClass, text, sentAt }) => ({ id, className, toClass, text, sentAt })),
  };
}

export { json };
