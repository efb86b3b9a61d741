/**
 * Hostile node-evidence requests ({collection, args}, POST /api/labs/<slug>/node-evidence): what a
 * learner could send to make the server run something else in a kind node. Collection names off
 * the allow-list, path tricks, NUL bytes, shell metacharacters and option-looking names, prototype
 * keys, huge strings and wrong types, alone and spliced into names that are otherwise right.
 * Shared by the hostile-input suite (the real server) and the validator's unit test.
 */
import fc from 'fast-check';

import { NODE_EVIDENCE_COLLECTIONS, NODE_PATHS } from '../../../src/lib/node-evidence-collections.ts';

/** Names that are right, for splicing: a container id, a pod log directory, a container name, each area. */
const GOOD_ID = '3f95ab57fe5f86bebfe7b587d90d675808726aa871cbf36eab706a0574868133';
const GOOD_POD_DIR = 'observability_node-monitor-ks7tc_0b1c2d3e-1111-2222-3333-444455556666';
const GOOD_NAMES = [GOOD_ID, GOOD_ID.slice(0, 12), GOOD_POD_DIR, 'monitor', ...Object.keys(NODE_PATHS)];

/** Path tricks, NUL, shell metacharacters, options, prototype keys, look-alikes. */
export const HOSTILE_NAMES = [
  '..', '.', '/', '../../etc/shadow', '/etc/kubernetes/pki', 'tmp/../..', 'kubelet-pki/../../root', '..%2f..%2fetc', '%2e%2e', '..\\..\\etc',
  '\u0000', 'tmp\u0000', `${GOOD_ID}\u0000`, 'a\u0000/../b',
  '$(id)', '`id`', '; id', '| sh -c id', '&& reboot', '> /dev/sda', "x'; id; '", '"$IFS"id', '${IFS}', '\nid', 'x\ny', '\r', 'a b', '\t',
  '--privileged', '-rf', '-exec', '--help', '-o', '*', '?', '{}', '+', '[a-z]',
  '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'prototype',
  'TMP', ' tmp', 'tmp ', 'ｔｍｐ', 'tmp\u200b', 'lab-1-control-plane; id', 'lab-1-control-plane$(reboot)', 'irlab-server', '',
];

const hostileName: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_NAMES) },
  // A right name with a trick before, inside or after it.
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...GOOD_NAMES), fc.constantFrom(...HOSTILE_NAMES), fc.nat()).map(([good, bad, at]) => { const cut = at % (good.length + 1); return `${good.slice(0, cut)}${bad}${good.slice(cut)}`; }) },
  // A pod log directory whose parts are tricks.
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('observability', ...HOSTILE_NAMES), fc.constantFrom('node-monitor', ...HOSTILE_NAMES), fc.constantFrom('0b1c2d3e-1111-2222-3333-444455556666', ...HOSTILE_NAMES)).map((parts) => parts.join('_')) },
  { weight: 2, arbitrary: fc.string({ maxLength: 80, unit: 'binary' }) },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 200_000 }).map((n) => 'a'.repeat(n)) },
  { weight: 1, arbitrary: fc.constantFrom(...GOOD_NAMES) },
);

/** Anything but a string. */
const notAString: fc.Arbitrary<unknown> = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.double(), fc.array(fc.constantFrom(...GOOD_NAMES), { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }), fc.jsonValue({ maxDepth: 2 }));

const collection: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NODE_EVIDENCE_COLLECTIONS) },
  { weight: 3, arbitrary: fc.constantFrom('shell', 'exec', 'bash', 'sh', 'crictl', 'docker', 'cat', 'Containers', 'containers ', 'containers\u0000', '../containers', 'files/../containers', 'pod-logs;id', ...HOSTILE_NAMES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 200_000 }).map((n) => 'c'.repeat(n)) },
  { weight: 1, arbitrary: notAString },
);

const args: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.array(hostileName, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.array(fc.oneof(hostileName, notAString), { minLength: 1, maxLength: 4 }) },
  { weight: 1, arbitrary: fc.oneof(hostileName, notAString) },
  { weight: 1, arbitrary: fc.integer({ min: 10, max: 2_000 }).map((n) => Array.from({ length: n }, () => 'tmp')) },
);

/** A request body: `collection` and `args` hostile, sometimes missing, sometimes with keys beside them. */
export const hostileNodeEvidenceRequest: fc.Arbitrary<Record<string, unknown>> = fc
  .record({ collection, args, extra: fc.dictionary(fc.constantFrom('container', 'node', 'path', 'command', 'argv', '__proto__', 'constructor'), hostileName, { maxKeys: 2 }) }, { requiredKeys: [] })
  .map(({ extra, ...request }) => ({ ...(extra ?? {}), ...request }));
