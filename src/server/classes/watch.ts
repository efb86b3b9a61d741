/**
 * An instructor may watch, read-only, the lab terminal of a learner in one of their classes: the
 * drill watch path (`/ws/terminal/<id>?watch=1`) with this rule beside the drill's. The learner's
 * lab page shows that they are watched (`watcherCount`, /api/classes/notices).
 */
import type { IncomingMessage } from 'node:http';
import type { LearnerService } from '../learners/learners.ts';
import type { TerminalSession } from '../terminal/session.ts';
import type { ClassService } from './classes.ts';
import { instructorOfNode } from './instructor.ts';

export function instructorMayWatch(services: { instructorToken: string; learners: LearnerService; classes: ClassService }, req: IncomingMessage, session: TerminalSession): boolean {
  // Only a learner's own lab shell (a drill's sessions have their own rule), of a class member.
  if (session.group || session.slot !== 1) return false;
  if (!instructorOfNode(services, req)) return false;
  return services.classes.classesOf(session.owner).length > 0;
}
