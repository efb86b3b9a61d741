/**
 * The shape of an audit.k8s.io/v1 Event, as far as a query needs it: which dotted paths exist
 * (for "unknown field, did you mean ..."), which hold free-form maps (anything below is allowed),
 * which are timestamps (compared as times) and which are numbers (compared as numbers).
 */

/** `*` marks a free-form map or object body: any key below it is accepted. */
type FieldTree = { [key: string]: FieldTree | 'string' | 'number' | 'strings' | 'time' | '*' };

const userInfo: FieldTree = { username: 'string', uid: 'string', groups: 'strings', extra: '*' };

export const EVENT_FIELDS: FieldTree = {
  kind: 'string',
  apiVersion: 'string',
  level: 'string',
  auditID: 'string',
  stage: 'string',
  requestURI: 'string',
  verb: 'string',
  user: userInfo,
  impersonatedUser: userInfo,
  sourceIPs: 'strings',
  userAgent: 'string',
  objectRef: {
    resource: 'string',
    namespace: 'string',
    name: 'string',
    uid: 'string',
    apiGroup: 'string',
    apiVersion: 'string',
    resourceVersion: 'string',
    subresource: 'string',
  },
  responseStatus: {
    kind: 'string',
    apiVersion: 'string',
    metadata: '*',
    status: 'string',
    message: 'string',
    reason: 'string',
    details: '*',
    code: 'number',
  },
  requestObject: '*',
  responseObject: '*',
  requestReceivedTimestamp: 'time',
  stageTimestamp: 'time',
  annotations: '*',
};

export type FieldKind = 'string' | 'number' | 'strings' | 'time' | 'object' | 'any';

/** What a path names in the event schema, or `undefined` when no such field exists. */
export function eventFieldKind(path: readonly string[]): FieldKind | undefined {
  let node: FieldTree[string] = EVENT_FIELDS;
  for (const segment of path) {
    if (node === '*') return 'any';
    if (typeof node !== 'object' || !Object.hasOwn(node, segment)) return undefined;
    node = node[segment]!;
  }
  if (node === '*') return 'any';
  return typeof node === 'object' ? 'object' : node;
}

/** Every dotted leaf and map path of the schema, for suggestions and the field sidebar. */
export const EVENT_FIELD_PATHS: readonly string[] = (() => {
  const out: string[] = [];
  const walk = (tree: FieldTree, prefix: string) => {
    for (const [key, node] of Object.entries(tree)) {
      const full = prefix ? `${prefix}.${key}` : key;
      if (typeof node === 'object') walk(node, full);
      else out.push(full);
    }
  };
  walk(EVENT_FIELDS, '');
  return out;
})();

/** Writes a path the way the language reads it: quoted where a key has dots, slashes or spaces. */
export function formatPath(path: readonly string[]): string {
  return path.map((segment) => (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(segment) ? segment : JSON.stringify(segment))).join('.');
}
