/**
 * An instructor may watch, read-only, the lab terminal of a learner in one of their classes: the
 * drill watch path (`/ws/terminal/<id>?watch=1`) with this rule beside the drill's. The learner's
 * lab page shows that they are watched (`watcherCount`, /api/classes/notices).
 */
import type { IncomingMessage } from 'node:http';
import type { TerminalSession } from '../terminal/session.ts';
import type { ClassService } from './classes.ts';
import { instructorOfNode, manages, type InstructorDeps } from './instructor.ts';

export async function instructorMayWatch(services: InstructorDeps & { classes: ClassService }, req: IncomingMessage, session: TerminalSession): Promise<boolean> {
  // Only a learner's own lab shell (a drill's sessions have their own rule), of a member of a class this instructor manages.
  if (session.group || session.slot !== 1) return false;
  const instructor = await instructorOfNode(services, req);
  if (!instructor) return false;
  return (await services.classes.classesOf(session.owner)).some((klass) => manages(instructor, klass));
}
