/**
 * irlab's LTI 1.3 tool as the composition root builds it when IRLAB_LTI_PLATFORMS is set: the
 * tool key (generated once into the data directory), the launch service, grade passback
 * subscribed to the learning events with its outbox drained every few seconds, and the routes.
 */
import type { Config } from '../app/config.ts';
import type { IdentityService } from '../learners/identities.ts';
import type { LearnerService } from '../learners/learners.ts';
import type { LearningEvents } from '../learners/learning-events.ts';
import type { SqlStore } from '../store/sql-store.ts';
import { gradePassback, type GradePassback } from './grade-passback.ts';
import { ltiService, type ActivityChoice, type LtiService } from './lti-service.ts';
import { createLtiRoutes } from './routes.ts';
import type { ToolKey } from './tool-key.ts';

/** How often the score outbox is looked at (a failed post waits for its backoff as well). */
const DRAIN_EVERY_MS = 5000;

export interface LtiTool {
  service: LtiService;
  grades: GradePassback;
  routes: ReturnType<typeof createLtiRoutes>;
  close(): Promise<void>;
}

export function ltiTool(deps: {
  config: Config;
  store: SqlStore;
  learners: LearnerService;
  identities: IdentityService;
  events: LearningEvents;
  activities: () => Promise<ActivityChoice[]>;
  log: (line: string) => void;
  /** The tool's key pair (tool-key.ts: the data directory's, or the database's on PostgreSQL). */
  key: ToolKey;
}): LtiTool {
  const { config, store } = deps;
  const platforms = config.lti?.platforms ?? [];
  const { key } = deps;
  const service = ltiService({ store, platforms, key, publicUrl: config.publicUrl, learners: deps.learners, identities: deps.identities, activities: deps.activities });
  const grades = gradePassback({ store, platforms, key, log: deps.log });
  const unsubscribe = deps.events.subscribe((event) => grades.listener(event));
  const drain = () => void grades.drain().catch((error: unknown) => deps.log(`irlab lti: draining the score outbox failed: ${String(error)}`));
  const timer = setInterval(drain, DRAIN_EVERY_MS).unref();
  // Scores left by a previous run of the server go out now, not after the first interval.
  drain();
  const routes = createLtiRoutes(service, deps.learners, { secureCookies: config.publicUrl.startsWith('https:') });
  return {
    service,
    grades,
    routes,
    async close() {
      clearInterval(timer);
      unsubscribe();
      // A post in flight finishes before the store closes; what is left waits in the outbox.
      await grades.idle();
    },
  };
}
