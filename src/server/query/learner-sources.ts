/**
 * Which audit logs a caller of POST /api/query may read: the server's configured file, their own
 * running lab's cluster ("lab"), and a drill's cluster ("drill:<id>") only when they are a
 * participant of that drill (the drill service decides, by their session cookie). Nobody names a
 * path or another learner's cluster.
 */
import { PROBE_USER_AGENT } from '../../lib/audit-policy/canonical.ts';
import { httpStatusOf } from '../../lib/error-status.ts';
import type { QueryHttpAnswer, SourceRegistry } from './http.ts';
import { FileAuditLogSource } from './source.ts';
import { serverSources } from './sources.ts';

export interface SourceOwners {
  /** The server's IRLAB_AUDIT_LOG, if any (source "file"). */
  file: string | undefined;
  /** The audit log of the learner's running lab cluster. */
  labAuditLog(learnerId: string): Promise<string | undefined>;
  /** The audit log of a drill's cluster for this learner; rejects with a status-branded error (403, 404, 409, 423). */
  drillAuditLog(drillId: string, learnerId: string | undefined): Promise<string>;
}

const DRILL_SOURCE = /^drill:([A-Za-z0-9_-]{1,64})$/;

/** The drill id of a `drill:<id>` source, else undefined. */
export const drillOfSource = (source: unknown): string | undefined => (typeof source === 'string' ? DRILL_SOURCE.exec(source)?.[1] : undefined);

/**
 * The sources this request may use, or the answer refusing it. A drill source is resolved alone
 * (a drill query never makes or recovers a lab cluster).
 */
export async function sourcesFor(body: unknown, learnerId: string | undefined, owners: SourceOwners): Promise<{ sources: SourceRegistry } | { refused: QueryHttpAnswer }> {
  const requested = body && typeof body === 'object' ? (body as { source?: unknown }).source : undefined;
  const drillId = drillOfSource(requested);
  if (drillId !== undefined) {
    try {
      const file = await owners.drillAuditLog(drillId, learnerId);
      // The scoreboard's and the audit-policy check's own requests are irlab's, not the incident's.
      return { sources: serverSources(owners.file, [new FileAuditLogSource(file, `drill:${drillId}`, [PROBE_USER_AGENT])]) };
    } catch (error) {
      const status = httpStatusOf(error);
      if (status === undefined || status >= 500) throw error;
      const hint = status === 403 ? 'join the drill with its code; each participant queries their own drill\'s cluster' : undefined;
      return { refused: { status, body: { ok: false, error: { message: (error as Error).message, ...(hint ? { hint } : {}) } } } };
    }
  }
  // The lab's log only when asked for: finding it may re-seed a cluster that went away (and a
  // front has none to find), which a query of the server's own file must not set off.
  const lab = learnerId && requested === 'lab' ? await owners.labAuditLog(learnerId) : undefined;
  return { sources: serverSources(owners.file, lab ? [new FileAuditLogSource(lab, 'lab', [PROBE_USER_AGENT])] : []) };
}
