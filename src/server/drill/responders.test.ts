// A participant's display name is hostile input that ends up in an X.509 subject and in the audit
// log's user.username: whatever the name, the username stays in a safe alphabet, bounded, and maps
// back to the participant who owns it (never to another one).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { READABLE } from '../cluster/learner-policy.ts';
import { participantIdOf, RESPONDER_RULES, responderUsername } from './responders.ts';

const SAFE = /^drill:[a-z0-9-]{1,20}\.[A-Za-z0-9_-]{1,40}$/;

describe('responder usernames from hostile display names', () => {
  it('stay in a safe alphabet and lead back to their participant', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/), (name, id) => {
        const username = responderUsername({ id, name });
        expect(username).toMatch(SAFE);
        expect(participantIdOf(username)).toBe(id);
      }),
      { numRuns: 2000 },
    );
  });

  it('keep subject syntax, path and impersonation tricks out of the name', () => {
    for (const name of ['Alice/CN=admin', 'x,O=system:masters', 'bob.evil-id', '../../etc', 'drill:Alice', 'a\nO=system:masters', '']) {
      const username = responderUsername({ id: 'p1', name });
      expect(username).toMatch(SAFE);
      expect(participantIdOf(username)).toBe('p1');
    }
  });

  it('refuses an id that is not a participant id', () => {
    expect(() => responderUsername({ id: 'p1/CN=admin', name: 'x' })).toThrow(/not a drill participant id/);
  });
});

describe('the responder role', () => {
  const resources = RESPONDER_RULES.flatMap((rule) => rule.resources ?? []);

  // A wildcard resource grants every subresource too, nodes/proxy among them: GET on it is the
  // kubelet's API, exec into any container of the node (the privileged ones included).
  it('names every resource it grants: no wildcard, no proxy subresource', () => {
    expect(resources.filter((r) => r.includes('*'))).toEqual([]);
    expect(resources.filter((r) => r.endsWith('/proxy'))).toEqual([]);
    expect(resources).not.toContain('nodes/proxy');
    for (const rule of RESPONDER_RULES) expect(rule.nonResourceURLs ?? []).toEqual([]);
  });

  it('still reads what incident response reads, pod logs included', () => {
    const read = RESPONDER_RULES.find((rule) => rule.verbs.includes('list'))!;
    expect(read.resources).toEqual([...READABLE]);
    expect(read.resources).toContain('pods/log');
    expect(read.verbs).toEqual(['get', 'list', 'watch']);
  });
});
