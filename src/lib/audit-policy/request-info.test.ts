import { describe, expect, it } from 'vitest';
import { authenticatedGroups, isLongRunning, requestAttributes } from './request-info.ts';

const who = { user: 'alice', groups: ['system:authenticated'] };
const attrs = (method: string, path: string) => {
  const a = requestAttributes({ method, path }, who);
  return { verb: a.verb, resourceRequest: a.resourceRequest, apiGroup: a.apiGroup, resource: a.resource, subresource: a.subresource, namespace: a.namespace, name: a.name };
};
const res = (verb: string, apiGroup: string, resource: string, subresource: string, namespace: string, name: string) => ({
  verb, resourceRequest: true, apiGroup, resource, subresource, namespace, name,
});
const nonRes = (verb: string) => ({ verb, resourceRequest: false, apiGroup: '', resource: '', subresource: '', namespace: '', name: '' });

describe('requestAttributes (the API server RequestInfo)', () => {
  it.each([
    ['GET', '/api/v1/namespaces/prod/secrets/db', res('get', '', 'secrets', '', 'prod', 'db')],
    ['GET', '/api/v1/namespaces/prod/secrets', res('list', '', 'secrets', '', 'prod', '')],
    ['GET', '/api/v1/secrets', res('list', '', 'secrets', '', '', '')],
    ['GET', '/api/v1/namespaces/prod/secrets?watch=true', res('watch', '', 'secrets', '', 'prod', '')],
    ['GET', '/api/v1/namespaces/prod/secrets?watch=false', res('list', '', 'secrets', '', 'prod', '')],
    ['GET', '/api/v1/namespaces/prod/secrets?watch=1', res('watch', '', 'secrets', '', 'prod', '')],
    ['GET', '/api/v1/watch/namespaces/prod/secrets', res('watch', '', 'secrets', '', 'prod', '')],
    ['GET', '/api/v1/namespaces/prod/secrets?fieldSelector=metadata.name%3Ddb', res('list', '', 'secrets', '', 'prod', 'db')],
    ['GET', '/api/v1/namespaces/prod/secrets?fieldSelector=metadata.name%3D%3Ddb', res('list', '', 'secrets', '', 'prod', 'db')],
    ['GET', '/api/v1/namespaces/prod/secrets?fieldSelector=type%3Dopaque', res('list', '', 'secrets', '', 'prod', '')],
    ['POST', '/api/v1/namespaces/prod/secrets', res('create', '', 'secrets', '', 'prod', '')],
    ['PUT', '/api/v1/namespaces/prod/secrets/db', res('update', '', 'secrets', '', 'prod', 'db')],
    ['PATCH', '/api/v1/namespaces/prod/secrets/db', res('patch', '', 'secrets', '', 'prod', 'db')],
    ['DELETE', '/api/v1/namespaces/prod/secrets/db', res('delete', '', 'secrets', '', 'prod', 'db')],
    ['DELETE', '/api/v1/namespaces/prod/secrets', res('deletecollection', '', 'secrets', '', 'prod', '')],
    ['HEAD', '/api/v1/namespaces/prod/secrets/db', res('get', '', 'secrets', '', 'prod', 'db')],
    ['POST', '/api/v1/namespaces/prod/pods/web/exec?command=sh', res('create', '', 'pods', 'exec', 'prod', 'web')],
    ['GET', '/api/v1/namespaces/prod/pods/web/exec?command=sh', res('get', '', 'pods', 'exec', 'prod', 'web')],
    ['GET', '/api/v1/namespaces/prod/pods/web/log', res('get', '', 'pods', 'log', 'prod', 'web')],
    ['GET', '/apis/apps/v1/namespaces/prod/deployments/web', res('get', 'apps', 'deployments', '', 'prod', 'web')],
    ['PUT', '/apis/apps/v1/namespaces/prod/deployments/web/scale', res('update', 'apps', 'deployments', 'scale', 'prod', 'web')],
    ['POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', res('create', 'rbac.authorization.k8s.io', 'clusterrolebindings', '', '', '')],
    // A Namespace object is addressed under /namespaces/NAME: its namespace is its name.
    ['GET', '/api/v1/namespaces', res('list', '', 'namespaces', '', '', '')],
    ['POST', '/api/v1/namespaces', res('create', '', 'namespaces', '', '', '')],
    ['GET', '/api/v1/namespaces/prod', res('get', '', 'namespaces', '', 'prod', 'prod')],
    ['DELETE', '/api/v1/namespaces/prod', res('delete', '', 'namespaces', '', 'prod', 'prod')],
    ['PUT', '/api/v1/namespaces/prod/finalize', res('update', '', 'namespaces', 'finalize', 'prod', 'prod')],
    ['GET', '/api/v1/namespaces/prod/status', res('get', '', 'namespaces', 'status', 'prod', 'prod')],
    ['GET', '/api/v1/nodes/n1', res('get', '', 'nodes', '', '', 'n1')],
    ['GET', '/api/v1/proxy/namespaces/prod/pods/web/x/y', res('proxy', '', 'pods', '', 'prod', 'web')],
    ['GET', '/apis/example.com/v1/widgets', res('list', 'example.com', 'widgets', '', '', '')],
    ['GET', '/healthz', nonRes('get')],
    ['GET', '/healthz/etcd', nonRes('get')],
    ['POST', '/version', nonRes('post')],
    ['GET', '/api', nonRes('get')],
    ['GET', '/api/v1', nonRes('get')],
    ['GET', '/apis', nonRes('get')],
    ['GET', '/apis/apps', nonRes('get')],
    ['GET', '/apis/apps/v1', nonRes('get')],
    ['GET', '/openapi/v2', nonRes('get')],
  ])('%s %s', (method, path, expected) => {
    expect(attrs(method, path)).toEqual(expected);
  });

  it('keeps the path (without query) and the identity', () => {
    const a = requestAttributes({ method: 'GET', path: '/healthz/etcd?verbose=1' }, who);
    expect(a.path).toBe('/healthz/etcd');
    expect(a.user).toBe('alice');
    expect(a.groups).toEqual(['system:authenticated']);
  });
});

describe('isLongRunning', () => {
  it.each([
    ['GET', '/api/v1/namespaces/prod/secrets?watch=true', true],
    ['POST', '/api/v1/namespaces/prod/pods/web/exec', true],
    ['POST', '/api/v1/namespaces/prod/pods/web/attach', true],
    ['GET', '/api/v1/namespaces/prod/pods/web/portforward', true],
    ['GET', '/api/v1/namespaces/prod/pods/web/log', true],
    ['GET', '/api/v1/namespaces/prod/pods/web', false],
    ['GET', '/api/v1/namespaces/prod/pods/web/status', false],
    ['GET', '/healthz', false],
  ])('%s %s: %s', (method, path, expected) => {
    expect(isLongRunning(requestAttributes({ method, path }, who))).toBe(expected);
  });
});

describe('authenticatedGroups', () => {
  it('adds what the API server adds', () => {
    expect(authenticatedGroups('alice', ['dev'])).toEqual(['dev', 'system:authenticated']);
    expect(authenticatedGroups('system:serviceaccount:prod:web')).toEqual([
      'system:serviceaccounts',
      'system:serviceaccounts:prod',
      'system:authenticated',
    ]);
    expect(authenticatedGroups('system:anonymous')).toEqual(['system:unauthenticated']);
  });
});
