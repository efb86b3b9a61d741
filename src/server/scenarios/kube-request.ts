/**
 * One audited API request as a given identity. Credentials and TLS come from
 * @kubernetes/client-node's KubeConfig; the path comes from our kinds table, so each scenario
 * step is exactly one request in the audit log (no discovery calls in between), and the
 * response's Audit-Id header ties the step to its audit event.
 */
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { AbortableKubeConfig, signalOf } from '../cluster/abortable-kube-config.ts';
import { KINDS } from './kinds.ts';

export interface ApiRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Array<[string, string]>;
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface ApiResponse {
  status: number;
  /** The API server's audit ID for this request. */
  auditId: string | undefined;
  body: unknown;
}

/** Who is calling and from where the API server should think the call comes. */
export interface Caller {
  kubeConfig: KubeConfig;
  /** X-Forwarded-For: the API server records it first in `sourceIPs`. */
  forwardedFor?: string;
  userAgent?: string;
  /** Cancels the request (default: the kubeConfig's own, when it is an AbortableKubeConfig). */
  signal?: AbortSignal;
}

/** A KubeConfig for the same cluster as `admin` that authenticates with a bearer token. */
export function tokenKubeConfig(admin: KubeConfig, user: string, token: string): KubeConfig {
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error('the admin kubeconfig has no current cluster');
  // Derived from an abortable admin, it is cancelled with it (a check's probes as another identity).
  const signal = signalOf(admin);
  const kc = signal ? new AbortableKubeConfig(signal) : new KubeConfig();
  kc.loadFromClusterAndUser(cluster, { name: user, token });
  return kc;
}

/** `/api/v1/namespaces/ns/secrets/name` for core kinds, `/apis/group/version/...` otherwise. */
export function resourcePath(apiVersion: string, kind: string, namespace?: string, name?: string, subresource?: string): string {
  const info = KINDS[kind];
  if (!info) throw new Error(`unknown kind ${kind}`);
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const scope = info.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  const object = name ? `/${encodeURIComponent(name)}` : '';
  return `${base}${scope}/${info.resource}${object}${subresource ? `/${subresource}` : ''}`;
}

export async function callApi(caller: Caller, request: ApiRequest, timeoutMs = 10_000): Promise<ApiResponse> {
  const cluster = caller.kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const url = new URL(cluster.server);
  url.pathname = request.path;
  for (const [key, value] of request.query ?? []) url.searchParams.append(key, value);
  const options: https.RequestOptions = { method: request.method, headers: {} };
  await caller.kubeConfig.applyToHTTPSOptions(options);
  const body = request.body === undefined ? undefined : typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
  options.headers = {
    ...(options.headers as Record<string, string>),
    Accept: 'application/json',
    ...(body !== undefined ? { 'Content-Type': request.contentType ?? 'application/json' } : {}),
    ...(caller.forwardedFor ? { 'X-Forwarded-For': caller.forwardedFor } : {}),
    ...(caller.userAgent ? { 'User-Agent': caller.userAgent } : {}),
    ...request.headers,
  };
  options.timeout = timeoutMs;
  const signal = caller.signal ?? signalOf(caller.kubeConfig);
  signal?.throwIfAborted();
  if (signal) options.signal = signal;
  return new Promise<ApiResponse>((resolve, reject) => {
    const req = https.request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          // Non-JSON bodies (plain-text errors from streaming endpoints) stay as text.
        }
        resolve({ status: res.statusCode ?? 0, auditId: header(res.headers['audit-id']), body: parsed });
      });
    });
    // Streaming endpoints (exec) answer 101 and hand over the socket: the request happened and
    // was audited; close the stream, since scenarios only need the attempt on record.
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 101, auditId: header(res.headers['audit-id']), body: undefined });
    });
    req.on('timeout', () => req.destroy(new Error(`${request.method} ${request.path} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
