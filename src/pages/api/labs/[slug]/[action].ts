import type { APIRoute } from 'astro';
import { currentLearner } from '../../../../server/learners/session.ts';
import { labRespond, readBody } from '../../../../server/lab/http.ts';
import { LabError } from '../../../../server/lab/service.ts';

export const prerender = false;

/** start · check {step, answers} · hint {step, index} · apply-policy · reset */
export const POST: APIRoute = ({ params, cookies, url, request }) =>
  labRespond(async (service) => {
    const learner = currentLearner(cookies, url, { create: true })!;
    const slug = params.slug ?? '';
    const body = await readBody(request);
    switch (params.action) {
      case 'start':
        return service.start(learner.id, slug);
      case 'check':
        return service.check(learner.id, slug, String(body.step ?? ''), (body.answers ?? {}) as Record<string, string>);
      case 'hint':
        return service.hint(learner.id, slug, String(body.step ?? ''), Number(body.index));
      case 'apply-policy':
        return service.applyPolicy(learner.id, slug);
      case 'reset':
        return service.reset(learner.id, slug);
      default:
        throw new LabError(`unknown action "${params.action}": use start, check, hint, apply-policy or reset`, 404);
    }
  });
