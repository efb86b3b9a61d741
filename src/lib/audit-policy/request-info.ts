/**
 * From an HTTP request to the attributes audit rules match, the way the API server's
 * RequestInfoFactory does it (k8s.io/apiserver pkg/endpoints/request/requestinfo.go). Worth
 * knowing: GET without a name is list (or watch with ?watch=true), DELETE without a name is
 * deletecollection, and `/api/v1/namespaces/foo` has namespace "foo" (not ""), so a
 * `namespaces: [""]` rule catches `list namespaces` and `create namespace` but not `get`,
 * `delete` or `patch` of one namespace.
 */
import type { RequestAttributes } from './types.ts';

export interface Identity {
  user: string;
  /** Every group, as the API server sees them (with `system:authenticated`). */
  groups: readonly string[];
}

export interface HttpRequest {
  method: string;
  /** Path, optionally with a query string: `/api/v1/namespaces/x/pods?watch=true`. */
  path: string;
}

const API_PREFIXES = new Set(['api', 'apis']);
const GROUPLESS_PREFIXES = new Set(['api']);
const SPECIAL_VERBS = new Set(['proxy', 'watch']);
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);
/** Long-running requests also emit a ResponseStarted audit event (kube-apiserver's check). */
const LONG_RUNNING_VERBS = new Set(['watch', 'proxy']);
const LONG_RUNNING_SUBRESOURCES = new Set(['attach', 'exec', 'proxy', 'log', 'portforward']);

const METHOD_VERBS: Record<string, string> = { POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

export function requestAttributes(request: HttpRequest, identity: Identity): RequestAttributes {
  const url = new URL(request.path, 'https://apiserver.invalid');
  const path = url.pathname;
  const method = request.method.toUpperCase();
  const base: RequestAttributes = {
    user: identity.user,
    groups: identity.groups,
    verb: method.toLowerCase(),
    resourceRequest: false,
    apiGroup: '',
    resource: '',
    subresource: '',
    namespace: '',
    name: '',
    path,
  };
  let parts = path.replace(/^\/+|\/+$/g, '').split('/').filter((_, i, all) => all.length > 1 || all[0] !== '');
  if (parts.length < 3 || !API_PREFIXES.has(parts[0]!)) return base;
  const prefix = parts[0]!;
  parts = parts.slice(1);
  let apiGroup = '';
  if (!GROUPLESS_PREFIXES.has(prefix)) {
    if (parts.length < 3) return base;
    apiGroup = parts[0]!;
    parts = parts.slice(1);
  }
  parts = parts.slice(1); // the version
  const info = { ...base, resourceRequest: true, apiGroup };
  if (SPECIAL_VERBS.has(parts[0]!)) {
    if (parts.length < 2) return info; // the API server answers 400 before auditing matters
    info.verb = parts[0]!;
    parts = parts.slice(1);
  } else {
    info.verb = METHOD_VERBS[method] ?? '';
  }
  if (parts[0] === 'namespaces') {
    if (parts.length > 1) {
      info.namespace = parts[1]!;
      if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!)) parts = parts.slice(2);
    }
  }
  if (parts.length >= 3 && info.verb !== 'proxy') info.subresource = parts[2]!;
  if (parts.length >= 2) info.name = parts[1]!;
  if (parts.length >= 1) info.resource = parts[0]!;

  if (info.name === '' && info.verb === 'get') {
    const watch = url.searchParams.get('watch');
    info.verb = watch !== null && !['false', '0'].includes(watch.toLowerCase()) ? 'watch' : 'list';
    const name = exactName(url.searchParams.get('fieldSelector'));
    if (name) info.name = name;
  }
  if (info.name === '' && info.verb === 'delete') info.verb = 'deletecollection';
  return info;
}

/** `metadata.name=x` (or `==`) in a field selector names the object, as for a get. */
function exactName(selector: string | null): string | undefined {
  if (!selector) return undefined;
  for (const term of selector.split(',')) {
    const match = /^\s*metadata\.name\s*==?\s*(.*?)\s*$/.exec(term);
    const name = match?.[1];
    if (name && name !== '.' && name !== '..' && !/[/%]/.test(name)) return name;
  }
  return undefined;
}

export function isLongRunning(request: RequestAttributes): boolean {
  return LONG_RUNNING_VERBS.has(request.verb) || (request.resourceRequest && LONG_RUNNING_SUBRESOURCES.has(request.subresource));
}

/**
 * The groups the API server gives an authenticated user: a service account's
 * (`system:serviceaccounts`, `system:serviceaccounts:<ns>`) plus `system:authenticated`.
 */
export function authenticatedGroups(user: string, groups: readonly string[] = []): string[] {
  const out = [...groups];
  const sa = /^system:serviceaccount:([^:]+):[^:]+$/.exec(user);
  if (sa) out.push('system:serviceaccounts', `system:serviceaccounts:${sa[1]}`);
  if (user !== 'system:anonymous') out.push('system:authenticated');
  else out.push('system:unauthenticated');
  return [...new Set(out)];
}
