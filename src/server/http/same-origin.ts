/**
 * The same-origin check for requests a browser sends with a learner's cookie (opening a terminal,
 * a drill's socket, a front's relay): a browser always sends Origin on a WebSocket upgrade and on a
 * cross-site POST, so a page elsewhere cannot act with the learner's cookie. No Origin: not a
 * browser (curl, the bench), nothing to forge. One check, used by every route that needs it.
 */
import type { IncomingMessage } from 'node:http';

export function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
