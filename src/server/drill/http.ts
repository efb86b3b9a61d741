/**
 * Endpoint plumbing for drills: who is calling (the learner session cookie; the facilitator's
 * `Authorization: Bearer` token), JSON in and out, a DrillError as its status, anything else 500.
 * Errors are matched by their status brand (src/lib/error-status.ts).
 */
import type { APIRoute, AstroCookies } from 'astro';
import type { DrillReport } from '../../lib/drill-view.ts';
import { errorResponse as respondWithError, json, readJsonObject } from '../http/endpoint.ts';
import type { Locals } from '../app/services.ts';
import type { LearnerService } from '../learners/learners.ts';
import { currentLearner } from '../learners/session.ts';
import type { Caller, DrillService } from './service.ts';

export { json };

export function bearerToken(request: Request): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.get('authorization') ?? '');
  return match?.[1];
}

export async function callerOf(learners: LearnerService, request: Request, cookies: AstroCookies, url: URL): Promise<Caller> {
  const token = bearerToken(request);
  if (token) return { facilitatorToken: token };
  const learner = await currentLearner(learners, cookies, url, { create: false });
  return learner ? { learnerId: learner.id } : {};
}

export const readBody = (request: Request, limit = 16 * 1024): Promise<Record<string, unknown>> => readJsonObject(request, limit);

export const errorResponse = (error: unknown): Response => respondWithError(error, 'drill endpoint', 'the drill service failed');

export async function drillRespond(service: DrillService, run: (service: DrillService) => Promise<unknown>, status = 200): Promise<Response> {
  try {
    return json(await run(service), status);
  } catch (error) {
    return errorResponse(error);
  }
}

/**
 * `GET /api/drills/<id>/report.<ext>`: the ended drill's report, rendered, as a download for
 * anyone in the drill (participant cookie or facilitator bearer).
 */
export function reportDownload(ext: 'md' | 'html', render: (report: DrillReport) => string, headers: Record<string, string>): APIRoute {
  return async ({ params, request, cookies, url, locals }) => {
    try {
      // App.Locals (src/env.d.ts) is Astro's view of the same type.
      const { drills: service, learners } = (locals as Locals).services;
      const id = params.id ?? '';
      await service.authorize(id, await callerOf(learners, request, cookies, url));
      const report = await service.report(id);
      return new Response(render(report), {
        headers: { ...headers, 'content-disposition': `attachment; filename="drill-${id}-report.${ext}"`, 'cache-control': 'no-store' },
      });
    } catch (error) {
      return errorResponse(error);
    }
  };
}
