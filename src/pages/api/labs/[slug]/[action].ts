import type { APIRoute } from 'astro';
import { endpointAddress } from '../../../../server/http/client-address.ts';
import { currentLearner } from '../../../../server/learners/session.ts';
import { labRespond, readBody } from '../../../../server/lab/http.ts';
import { LabError, type LabService } from '../../../../server/lab/service.ts';
import { tooManyRequests, type Refusal, type Requester, type ServerLimits } from '../../../../server/limits/server-limits.ts';

export const prerender = false;

/**
 * The budget an action spends, checked before it runs: a start that needs a cluster (not one
 * that finds the learner's lab running) spends a cluster start; a check or a policy apply (which
 * restarts the API server) spends a check. Reset only gives a cluster back.
 */
async function refusal(labs: LabService, limits: ServerLimits, action: string | undefined, slug: string, who: Requester): Promise<Refusal | undefined> {
  if (action === 'start') return who.learner && (await labs.activeRun(who.learner, slug)) ? undefined : limits.clusterStart(who);
  // Collecting node evidence runs commands in the node: budgeted like a check.
  if (action === 'check' || action === 'apply-policy' || action === 'node-evidence') return limits.check(who);
  return undefined;
}

/** start · check {step, answers} · hint {step, index} · apply-policy · node-evidence {collection, args} · extend · reset */
export const POST: APIRoute = async (context) => {
  const { params, cookies, url, request } = context;
  const { labs, limits, learners } = context.locals.services;
  const slug = params.slug ?? '';
  // Budgets first, so that a refused request (a flood without cookies) creates no learner either.
  const known = await currentLearner(learners, cookies, url, { create: false });
  const refused = await refusal(labs, limits, params.action, slug, { learner: known?.id, address: endpointAddress(context) });
  if (refused) return tooManyRequests(refused);
  const learner = known ?? (await currentLearner(learners, cookies, url, { create: true }))!;
  return labRespond(labs, async (service) => {
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
      case 'node-evidence':
        return service.nodeEvidence(learner.id, slug, { collection: body.collection, args: body.args });
      case 'extend':
        return service.extend(learner.id, slug);
      case 'reset':
        return service.reset(learner.id, slug);
      default:
        throw new LabError(`unknown action "${params.action}": use start, check, hint, apply-policy, node-evidence, extend or reset`, 404);
    }
  });
};
