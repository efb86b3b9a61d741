/**
 * An instructor may watch, read-only, the lab terminal of a learner in one of their classes: the
 * drill watch path (`/ws/terminal/<id>?watch=1`) with this rule beside the drill's. The learner's
 * lab page shows that they are watched (`watcherCount`, /api/classes/notices).
 */
import type { IncomingMessage } from 'node:http';
import type { TerminalSession } from '../terminal/session.ts';
import type { ClassService } from './classes.ts';
import { watcherOf } from '../cells/cluster-routes.ts';
import { instructorOfNode, manages, type InstructorDeps } from './instructor.ts';

type WatchDeps = InstructorDeps & { classes: ClassService };

/** Only a learner's own lab shell (a drill's sessions have their own rule). */
const isLabShell = (session: TerminalSession): boolean => !session.group && session.slot === 1;

export async function instructorMayWatch(services: WatchDeps, req: IncomingMessage, session: TerminalSession): Promise<boolean> {
  return isLabShell(session) && (await instructorMayWatchLearner(services, req, session.owner));
}

/**
 * Whether the request is an instructor's who manages a class the learner is in (that class, when
 * named). A front asks this before it routes a watch to the learner's cell (front-proxy.ts).
 */
export async function instructorMayWatchLearner(services: WatchDeps, req: IncomingMessage, learnerId: string, classId?: string): Promise<boolean> {
  const instructor = await instructorOfNode(services, req);
  if (!instructor) return false;
  return (await services.classes.classesOf(learnerId)).some((klass) => manages(instructor, klass) && (classId === undefined || klass.id === classId));
}

/** On a cell: a front signed the request as the watcher of this session's owner (it checked the instructor). */
export const forwardedWatchAllowed = (principal: string, session: TerminalSession): boolean => isLabShell(session) && principal === watcherOf(session.owner);
