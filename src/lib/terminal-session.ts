/**
 * What a terminal island needs to find its session, apart from the terminal itself: pages that
 * load the terminal lazily (labs, drill rooms) name these without pulling in xterm.js.
 */

/** The session a terminal attaches to: what `POST /api/terminal/session` answers. */
export interface SessionInfo {
  sessionId: string;
  /** WebSocket path, e.g. `/ws/terminal/<id>` (a watcher's ends in `?watch=1`). */
  socketPath: string;
  cluster: string | null;
}

/** Finds or starts the session for this terminal; `fresh` asks for a new one ("Start a new session"). */
export type SessionSource = (size: { cols: number; rows: number }, fresh: boolean) => Promise<SessionInfo>;

/** A refusal the server explained in words: shown as is, not as "could not reach". */
export class SessionError extends Error {}
