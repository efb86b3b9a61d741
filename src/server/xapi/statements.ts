/**
 * Learning events as xAPI 1.0.3 statements (https://github.com/adlnet/xAPI-Spec, version 1.0.3).
 * Pure: the statement's `id` is given (the outbox assigns it when the event enters, so a resend is
 * the same statement), ids of activities are built on the server's public URL, and a run id
 * becomes the statement's `registration` through a name-based UUID (v5), so every statement of one
 * lab run or quiz attempt groups under one registration without storing one per run.
 *
 * The learner is an `account` on this server (homePage = public URL, name = the learner id), never
 * an e-mail address: the LRS learns who did what only as far as the operator maps learner ids.
 */
import { createHash } from 'node:crypto';
import type { LearningActivity, LearningEvent, LearningScore } from '../learners/learning-events.ts';

export const XAPI_VERSION = '1.0.3';

/** The ADL verbs irlab sends (http://adlnet.gov/expapi/verbs/). */
export const VERBS = {
  launched: 'http://adlnet.gov/expapi/verbs/launched',
  answered: 'http://adlnet.gov/expapi/verbs/answered',
  passed: 'http://adlnet.gov/expapi/verbs/passed',
  completed: 'http://adlnet.gov/expapi/verbs/completed',
} as const;

/** ADL activity types: a lab is a simulation, a quiz an assessment, a step an objective, a question an interaction. */
export const ACTIVITY_TYPES = {
  lab: 'http://adlnet.gov/expapi/activities/simulation',
  quiz: 'http://adlnet.gov/expapi/activities/assessment',
  step: 'http://adlnet.gov/expapi/activities/objective',
  question: 'http://adlnet.gov/expapi/activities/cmi.interaction',
} as const;

type LanguageMap = Record<string, string>;

export interface XapiActivity {
  objectType: 'Activity';
  id: string;
  definition: { name?: LanguageMap; type: string };
}

export interface XapiScore {
  scaled: number;
  raw?: number;
  min?: number;
  max?: number;
}

/** The statement irlab sends; `id` is set by the outbox. */
export interface XapiStatement {
  id: string;
  actor: { objectType: 'Agent'; name?: string; account: { homePage: string; name: string } };
  verb: { id: string; display: LanguageMap };
  object: XapiActivity;
  result?: { score?: XapiScore; success?: boolean; completion?: boolean; extensions?: Record<string, unknown> };
  context: {
    registration: string;
    platform: string;
    contextActivities?: { parent: XapiActivity[] };
    extensions: Record<string, unknown>;
  };
  timestamp: string;
}

/** Whom a statement is about, beyond the learner id (read when the event arrives). */
export interface StatementActor {
  learnerId: string;
  displayName?: string | undefined;
}

/** A UUID v5 (RFC 9562 §5.5): SHA-1 of namespace and name; the same input gives the same UUID. */
export function uuidV5(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  if (ns.length !== 16) throw new Error(`"${namespace}" is not a UUID`);
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** RFC 9562's namespace for URLs. */
const URL_NAMESPACE = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';

/** The registration of every statement of one run: a UUID v5 of the run under this server's URL. */
export function registrationOf(publicUrl: string, runId: string): string {
  return uuidV5(`run:${runId}`, uuidV5(publicUrl, URL_NAMESPACE));
}

/** A lab at `${publicUrl}/labs/<slug>`, a quiz at `${publicUrl}/quizzes/<slug>`: the pages learners open. */
export function activityId(publicUrl: string, activity: Pick<LearningActivity, 'kind' | 'slug'>): string {
  return `${publicUrl}/${activity.kind === 'lab' ? 'labs' : 'quizzes'}/${encodeURIComponent(activity.slug)}`;
}

function activityOf(publicUrl: string, activity: LearningActivity): XapiActivity {
  return { objectType: 'Activity', id: activityId(publicUrl, activity), definition: { name: { en: activity.title }, type: ACTIVITY_TYPES[activity.kind] } };
}

/**
 * Statement scores: scaled within 0..1 (xAPI allows -1..1), raw within min 0..max. xAPI wants max
 * greater than min, so an activity worth no points sends its scaled score alone.
 */
export function scoreOf(score: LearningScore): XapiScore {
  const scaled = Math.min(1, Math.max(0, Number.isFinite(score.scaled) ? score.scaled : 0));
  if (!(score.max > 0)) return { scaled };
  const raw = Math.min(Math.max(0, Number.isFinite(score.raw) ? score.raw : 0), score.max);
  return { scaled, raw, min: 0, max: score.max };
}

/** Extension IRIs under the server's own URL (xAPI extension keys must be IRIs the sender controls). */
export function extensionIds(publicUrl: string) {
  return { runId: `${publicUrl}/xapi/extensions/run-id`, runScore: `${publicUrl}/xapi/extensions/run-score` };
}

/** The statement for one learning event; `id` is the outbox's. */
export function statementOf(event: LearningEvent, options: { id: string; publicUrl: string; actor: StatementActor }): XapiStatement {
  const { id, publicUrl, actor } = options;
  const extensions = extensionIds(publicUrl);
  const parent = activityOf(publicUrl, event.activity);
  let object = parent;
  let sub = false;
  if (event.type === 'answered') {
    object = { objectType: 'Activity', id: `${parent.id}#question-${encodeURIComponent(event.question.id)}`, definition: { type: ACTIVITY_TYPES.question } };
    sub = true;
  } else if (event.type === 'passed' && event.step) {
    object = { objectType: 'Activity', id: `${parent.id}#step-${encodeURIComponent(event.step.id)}`, definition: { name: { en: event.step.title }, type: ACTIVITY_TYPES.step } };
    sub = true;
  }
  let result: XapiStatement['result'];
  if (event.type === 'answered') {
    if (event.success !== undefined) result = { success: event.success };
  } else if (event.type === 'passed') {
    // A step's statement is about the step: it passed; the run's score so far rides as an extension.
    result = event.step ? { success: true, completion: true, extensions: { [extensions.runScore]: scoreOf(event.score) } } : { score: scoreOf(event.score), success: true };
  } else if (event.type === 'completed') {
    result = { score: scoreOf(event.score), success: event.success, completion: true };
  }
  return {
    id,
    actor: { objectType: 'Agent', ...(actor.displayName ? { name: actor.displayName } : {}), account: { homePage: publicUrl, name: actor.learnerId } },
    verb: { id: VERBS[event.type], display: { 'en-US': event.type } },
    object,
    ...(result ? { result } : {}),
    context: {
      registration: registrationOf(publicUrl, event.runId),
      platform: 'irlab',
      ...(sub ? { contextActivities: { parent: [parent] } } : {}),
      extensions: { [extensions.runId]: event.runId },
    },
    timestamp: event.at,
  };
}
