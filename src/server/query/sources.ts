/**
 * The audit logs this server can query. Today: the file named by IRLAB_AUDIT_LOG (a self-hoster
 * pointing irlab at their own API server's --audit-log-path), as source "file". Lab clusters
 * register theirs here when the cluster engine lands.
 */
import { FileAuditLogSource } from './source.ts';
import { registry, type SourceRegistry } from './http.ts';

export function serverSources(file: string | undefined, extra: FileAuditLogSource[] = []): SourceRegistry {
  return registry([...(file ? [new FileAuditLogSource(file, 'file')] : []), ...extra]);
}
