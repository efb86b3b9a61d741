/**
 * What a hostile learner sends, as fast-check arbitraries: WebSocket frames (over-size, binary,
 * invalid UTF-8, not JSON, JSON of the wrong shape, numbers no field expects, frames the
 * WebSocket protocol forbids), cookies, headers and request bodies. Each frame case says what the
 * server owes it: `close` (the socket ends with a close code) or `answer` (an error frame, or at
 * least a pong to a ping sent after it: the connection is still served).
 */
import fc from 'fast-check';
import { hostileNodeEvidenceRequest } from './node-evidence-arbitraries.ts';
import { binary, ping, text, type RawFrame } from './wire.ts';

export interface FrameCase {
  label: string;
  frames: RawFrame[];
  /** What the server owes this input on a connection past its handshake. */
  owed: 'close' | 'answer';
}

const INVALID_UTF8 = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80]].map((bytes) => Buffer.from(bytes));

export const invalidUtf8: fc.Arbitrary<Buffer> = fc
  .tuple(fc.string({ maxLength: 30 }), fc.constantFrom(...INVALID_UTF8), fc.string({ maxLength: 30 }))
  .map(([before, bad, after]) => Buffer.concat([Buffer.from(before), bad, Buffer.from(after)]));

/** Numbers no field expects: huge, negative, fractional, beyond 2^53, -0, exponents. */
export const oddNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(1e308, -1e308, 2 ** 53 + 2, -(2 ** 53) - 2, 2 ** 32, -1, -0, 0.5, 1e-300, 4294967295.5),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

/** Any JSON value, or one of the odd numbers, or a huge string. */
const oddValue: fc.Arbitrary<unknown> = fc.oneof(fc.jsonValue({ maxDepth: 3 }), oddNumber, fc.string({ maxLength: 3000 }), fc.constant(null), fc.boolean());

/** An object using the protocol's own tag and field names with wrong values. */
export function taggedObject(tagKey: string, tags: string[], fields: string[]): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .tuple(fc.oneof(fc.constantFrom(...tags), oddValue), fc.dictionary(fc.constantFrom(...fields), oddValue, { maxKeys: fields.length }))
    .map(([tag, rest]) => ({ [tagKey]: tag, ...rest }));
}

/** '[[[...]]]' or '{"a":{"a":...}}' nested `depth` deep. */
export function nested(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** Frames the WebSocket protocol itself forbids; the server must close with 1002 (or 1007). */
const protocolViolation: fc.Arbitrary<FrameCase> = fc.oneof<fc.Arbitrary<FrameCase>[]>(
  fc.record({ opcode: fc.constantFrom(3, 4, 5, 6, 7, 11, 12, 13, 14, 15), payload: fc.uint8Array({ maxLength: 50 }).map((b) => Buffer.from(b)) }).map((f) => ({ label: `reserved opcode ${f.opcode}`, frames: [f], owed: 'close' as const })),
  fc.record({ rsv: fc.integer({ min: 1, max: 7 }), payload: fc.string({ maxLength: 20 }).map((s) => Buffer.from(s)) }).map((f) => ({ label: `rsv bits ${f.rsv}`, frames: [{ opcode: 1, ...f }], owed: 'close' as const })),
  fc.string({ maxLength: 20 }).map((s) => ({ label: 'unmasked frame', frames: [{ opcode: 1, payload: Buffer.from(s), masked: false }], owed: 'close' as const })),
  fc.integer({ min: 126, max: 300 }).map((n) => ({ label: 'ping over 125 bytes', frames: [ping(Buffer.alloc(n, 1))], owed: 'close' as const })),
  fc.constant<FrameCase>({ label: 'fragmented ping', frames: [{ opcode: 9, payload: Buffer.from('x'), fin: false }], owed: 'close' }),
  fc.string({ maxLength: 20 }).map((s) => ({ label: 'continuation with nothing to continue', frames: [{ opcode: 0, payload: Buffer.from(s) }], owed: 'close' as const })),
  fc.constant<FrameCase>({ label: 'text fragment then a new text frame', frames: [{ opcode: 1, payload: Buffer.from('{"a'), fin: false }, text('"}')], owed: 'close' }),
  fc.constantFrom(0, 999, 1004, 1005, 1006, 1015, 2000, 5000, 65535).map((code) => {
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(code);
    return { label: `close with invalid code ${code}`, frames: [{ opcode: 8, payload }], owed: 'close' as const };
  }),
  fc.constant<FrameCase>({ label: 'close with a 1-byte payload', frames: [{ opcode: 8, payload: Buffer.from([3]) }], owed: 'close' }),
  invalidUtf8.map((reason) => ({ label: 'close with an invalid UTF-8 reason', frames: [{ opcode: 8, payload: Buffer.concat([Buffer.from([0x03, 0xe8]), reason]) }], owed: 'close' as const })),
);

/**
 * Frames for a socket accepting text frames of at most `limit` bytes, whose messages are JSON
 * objects tagged by `tagKey`.
 */
export function hostileFrames(limit: number, tagKey: string, tags: string[], fields: string[]): fc.Arbitrary<FrameCase> {
  return fc.oneof<fc.Arbitrary<FrameCase>[]>(
    fc.integer({ min: limit + 1, max: limit * 2 }).map((n) => ({ label: `text of ${n} bytes`, frames: [text('x'.repeat(n))], owed: 'close' as const })),
    fc.integer({ min: limit + 1, max: limit * 2 }).map((n) => ({ label: `binary of ${n} bytes`, frames: [binary(Buffer.alloc(n, 7))], owed: 'close' as const })),
    fc.uint8Array({ maxLength: 300 }).map((b) => ({ label: 'binary frame', frames: [binary(Buffer.from(b))], owed: 'close' as const })),
    invalidUtf8.map((b) => ({ label: 'invalid UTF-8 text', frames: [text(b)], owed: 'close' as const })),
    fc.string({ maxLength: 300, unit: 'binary' }).map((s) => ({ label: 'text, maybe not JSON', frames: [text(s)], owed: 'answer' as const })),
    fc.jsonValue({ maxDepth: 4 }).map((v) => ({ label: 'JSON of any shape', frames: [text(JSON.stringify(v) ?? 'null')], owed: 'answer' as const })),
    taggedObject(tagKey, tags, fields).map((v) => ({ label: 'a message with wrong fields', frames: [text(JSON.stringify(v).slice(0, limit))], owed: 'answer' as const })),
    fc.tuple(fc.integer({ min: 10, max: Math.floor(limit / 2) - 2 }), fc.constantFrom('array' as const, 'object' as const)).map(([depth, kind]) => ({ label: `JSON ${depth} deep`, frames: [text(nested(Math.min(depth, Math.floor(limit / 6)), kind))], owed: 'answer' as const })),
    protocolViolation,
  ).map(printable((c) => `${c.label}: ${c.frames.map((f) => `op ${f.opcode} ${f.payload.subarray(0, 60).toString('latin1')}`).join(' | ')}`));
}

/** A counterexample printed short: a 3 MiB body as its label, not three million numbers. */
function printable<T extends object>(describe: (value: T) => string): (value: T) => T {
  return (value) => Object.assign(value, { [fc.toStringMethod]: () => describe(value) });
}

/** Cookie headers: malformed escapes, our cookie's name with junk, huge, many. */
export const hostileCookie: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('irlab_session=%zz', 'irlab_session=%', 'irlab_session=%E0%A4%A', 'irlab_session=%00', 'irlab_session', 'irlab_session=', '=;=;;', 'irlab_session="x', '; ; irlab_session=%zz; irlab_session=%%', 'irlab_instructor=%zz', 'irlab_session=../../etc/passwd'),
  fc.string({ maxLength: 80 }).map((s) => `irlab_session=${s}`),
  fc.string({ maxLength: 80, unit: 'binary-ascii' }).map((s) => `irlab_session=${s}`),
  fc.integer({ min: 100, max: 12_000 }).map((n) => `irlab_session=${'%'.repeat(n)}`),
  fc.array(fc.tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 20 })), { maxLength: 40 }).map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('; ')),
);

/** One header that lies or makes no sense. */
export const hostileHeader: fc.Arbitrary<[string, string]> = fc.oneof(
  hostileCookie.map((v): [string, string] => ['Cookie', v]),
  fc.oneof(fc.constantFrom('null', 'http://evil.example', 'http://127.0.0.1:1', 'not a url', '://', 'http://[', 'file://'), fc.string({ maxLength: 40 })).map((v): [string, string] => ['Origin', v]),
  fc.oneof(fc.constantFrom('', '[', '[::1', 'a b', 'evil.example', '127.0.0.1:99999', ':', '@', '%zz', 'x'.repeat(3000), '127.0.0.1:4321/../x'), fc.string({ maxLength: 40 })).map((v): [string, string] => ['Host', v]),
  fc.oneof(fc.constantFrom('application/json', 'text/plain', 'multipart/form-data; boundary=', 'application/x-www-form-urlencoded', 'application/json; charset=utf-7', '*/*', ';;;'), fc.string({ maxLength: 40 })).map((v): [string, string] => ['Content-Type', v]),
  fc.oneof(fc.constantFrom('-1', '1e3', '0x10', '99999999999999999999', ' 5', '5, 6'), fc.string({ maxLength: 10 })).map((v): [string, string] => ['Content-Length', v]),
  fc.constantFrom('X-Forwarded-For', 'X-Forwarded-Host', 'X-Forwarded-Proto', 'X-Forwarded-Port', 'Forwarded', 'X-Real-IP').chain((name) =>
    fc.oneof(fc.constantFrom('https', 'http', 'evil.example', '1.2.3.4, 5.6.7.8', 'javascript:', '"', '[::1]:80'), fc.string({ maxLength: 40 })).map((v): [string, string] => [name, v]),
  ),
  fc.oneof(fc.constantFrom('Bearer ', 'Bearer %zz', 'Basic x', 'Bearer ' + 'a'.repeat(5000)), fc.string({ maxLength: 60 })).map((v): [string, string] => ['Authorization', v]),
  fc.tuple(fc.stringMatching(/^[A-Za-z0-9-]{1,20}$/), fc.string({ maxLength: 60 })),
);

/**
 * Request bodies: not JSON, invalid UTF-8, JSON of the wrong type, deep, huge, or the right keys
 * with wrong values; and, for an endpoint with its own tricks (`shaped`), bodies of its shape.
 */
export function hostileBody(fields: string[], shaped?: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<{ label: string; body: Buffer; json: boolean }> {
  type Body = { label: string; body: Buffer; json: boolean };
  // An endpoint's own tricks weigh as much as the generic cases together: they reach its validation.
  const own = shaped ? [{ weight: 6, arbitrary: shaped.map((v): Body => ({ label: 'its own shape, hostile values', body: Buffer.from(JSON.stringify(v)), json: true })) }] : [];
  return fc.oneof<Array<fc.Arbitrary<Body> | fc.WeightedArbitrary<Body>>>(
    ...own,
    fc.string({ minLength: 1, maxLength: 200, unit: 'binary' }).filter((s) => s.trim() !== '' && !isJson(s)).map((s) => ({ label: 'not JSON', body: Buffer.from(s), json: false })),
    invalidUtf8.map((b) => ({ label: 'invalid UTF-8', body: b, json: false })),
    fc.jsonValue({ maxDepth: 4 }).map((v) => ({ label: 'JSON of any shape', body: Buffer.from(JSON.stringify(v) ?? 'null'), json: true })),
    fields.length ? taggedObject(fields[0]!, [''], fields).map((v) => ({ label: 'known keys, wrong values', body: Buffer.from(JSON.stringify(v)), json: true })) : fc.constant({ label: 'empty', body: Buffer.alloc(0), json: false }),
    fc.tuple(fc.integer({ min: 100, max: 50_000 }), fc.constantFrom('array' as const, 'object' as const)).map(([depth, kind]) => ({ label: `JSON ${depth} deep`, body: Buffer.from(nested(depth, kind)), json: true })),
    fc.integer({ min: 1, max: 3 }).map((mib) => ({ label: `${mib} MiB + 1 byte`, body: Buffer.alloc(mib * 1024 * 1024 + 1, 0x61), json: false })),
  ).map(printable((b) => `${b.label}: ${b.body.subarray(0, 80).toString('latin1')}${b.body.length > 80 ? `... (${b.body.length} bytes)` : ''}`));
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** A lab the suite's content root adds: L18 with `engine: kind`, which this server cannot start (409). */
export const KIND_LAB = 'l18-on-kind';

/** Pages and endpoints the header fuzz asks for. */
export const PAGES = [`/labs/${KIND_LAB}`, `/api/labs/${KIND_LAB}`, '/', '/api/me', '/api/labs/l18', '/progress', '/terminal', '/api/quizzes/l18', '/api/drills/no-such-drill', '/drills/no-such-drill', '/quizzes/l18', '/lessons/l18-audit-logging-incident-response', '/api/drills/scenarios', '/api/instructor/quizzes/l18', '/api/health', '/no-such-page', '/labs', '/quizzes', '/instructor', '/api/labs/l18/notes', '/api/labs/l18/files', '/api/labs/l18/files?path=../../etc/shadow', `/api/labs/l18/files?path=${'%2e%2e/'.repeat(400)}`, '/api/labs/l18/files?path=%00%zz', '/instructor/classes', '/instructor/classes/cls_nosuchclass000000', '/classes/join', '/classes/join/%3Cscript%3E', '/classes/cls_nosuchclass000000', '/classes/..%2F..%2Fetc', '/api/classes', '/api/classes/notices', '/api/classes/cls_nosuchclass000000', '/api/classes/x/dashboard', '/api/classes/x/dashboard.csv', '/api/classes/x/watch?learner=../../etc'];

/** Every endpoint that takes a body, with ids that exist nowhere, so that every generated body is wrong. */
export interface BodyTarget {
  method: string;
  path: string;
  fields: string[];
  /** Every generated body is wrong here (unknown ids, no run): a 4xx. Otherwise some may be accepted. */
  strict: boolean;
  /** Bodies of the endpoint's own shape with hostile values (names it passes on to a command). */
  shaped?: fc.Arbitrary<Record<string, unknown>>;
}

export const BODY_TARGETS: BodyTarget[] = [
  { method: 'POST', path: '/api/labs/l18/check', fields: ['step', 'answers'], strict: true },
  { method: 'POST', path: '/api/labs/l18/hint', fields: ['step', 'index'], strict: true },
  { method: 'POST', path: '/api/labs/l18/apply-policy', fields: ['step'], strict: true },
  { method: 'POST', path: '/api/labs/no-such-lab/start', fields: ['step'], strict: true },
  // A lab this server's engine cannot run: a 409 with the reason (or a 429 once the start budget is spent).
  { method: 'POST', path: `/api/labs/${KIND_LAB}/start`, fields: ['step'], strict: true },
  // Node evidence runs commands in a kind node: hostile collections, names with path tricks, NUL and
  // shell characters; no run here (and no real node on this server), so a 400 or a 409, budgeted.
  { method: 'POST', path: '/api/labs/l18/node-evidence', fields: ['collection', 'args'], strict: true, shaped: hostileNodeEvidenceRequest },
  { method: 'POST', path: `/api/labs/${KIND_LAB}/node-evidence`, fields: ['collection', 'args'], strict: true, shaped: hostileNodeEvidenceRequest },
  { method: 'POST', path: '/api/labs/no-such-lab/node-evidence', fields: ['collection', 'args'], strict: true, shaped: hostileNodeEvidenceRequest },
  { method: 'POST', path: '/api/labs/l18/frobnicate', fields: ['step'], strict: true },
  { method: 'POST', path: '/api/labs/no-such-lab/extend', fields: [], strict: true },
  { method: 'POST', path: '/api/labs/no-such-lab/reset', fields: [], strict: true },
  // Case notes are any text: a lab that does not exist refuses whatever the body.
  { method: 'PUT', path: '/api/labs/no-such-lab/notes', fields: ['text'], strict: true },
  // The instructor pages' sign-in form: anything but the right token is a refused sign-in.
  { method: 'POST', path: '/instructor', fields: ['token'], strict: true },
  { method: 'POST', path: '/api/drills', fields: ['scenario', 'title', 'durationMinutes', 'roles'], strict: true },
  { method: 'POST', path: '/api/drills/join', fields: ['code', 'name', 'role'], strict: true },
  { method: 'POST', path: '/api/drills/no-such-drill/answers', fields: ['answers'], strict: true },
  { method: 'POST', path: '/api/drills/no-such-drill/control', fields: ['action', 'minutes'], strict: true },
  { method: 'POST', path: '/api/drills/no-such-drill/injects', fields: ['injectId', 'title', 'body'], strict: true },
  { method: 'POST', path: '/api/drills/no-such-drill/log', fields: ['kind', 'text'], strict: true },
  { method: 'POST', path: '/api/drills/no-such-drill/expectations/x', fields: ['met'], strict: true },
  { method: 'POST', path: '/api/drills/no-such-drill/terminal', fields: [], strict: true },
  { method: 'POST', path: '/api/quizzes/no-such-quiz/attempts', fields: [], strict: true },
  { method: 'POST', path: '/api/quizzes/l18/attempts/no-such-attempt/answers', fields: ['questionId', 'answer'], strict: true },
  { method: 'POST', path: '/api/quizzes/l18/attempts/no-such-attempt/submit', fields: [], strict: true },
  { method: 'POST', path: '/api/query', fields: ['source', 'query', 'highlight', 'limit'], strict: true },
  // Classes: no class has a generated code (and guesses spend the join budget: 429); without the
  // instructor token creating or changing one is a 401; dismissing an unknown message changes nothing.
  { method: 'POST', path: '/api/classes/join', fields: ['code', 'name', 'rejoinKey'], strict: true },
  { method: 'POST', path: '/api/classes', fields: ['name'], strict: true },
  { method: 'POST', path: '/api/classes/cls_nosuchclass000000', fields: ['action', 'kind', 'slug', 'dueAt', 'text', 'learner', 'seconds'], strict: true },
  { method: 'POST', path: '/api/classes/notices', fields: ['dismiss'], strict: false },
  { method: 'PUT', path: '/api/me', fields: ['displayName'], strict: false },
  // With the owner's cookie: their session exists, so a JSON body answers it (never a new shell).
  { method: 'POST', path: '/api/terminal/session', fields: ['cols', 'rows', 'slot'], strict: false },
];

/** Tokens of the query language (docs/query.md) and near misses. */
export const QUERY_WORDS = ['verb', 'user.username', 'objectRef.resource', 'responseStatus.code', '==', '!=', '>=', 'AND', 'OR', 'NOT', 'in', 'not', 'exists', '(', ')', ',', '|', 'count', 'by', 'sort', 'limit', 'where', 'bin', '"get"', '"*"', '403', 'true', 'null', '"', '\\', '.', '""', '1e999'];
