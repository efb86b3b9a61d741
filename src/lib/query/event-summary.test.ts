import { describe, expect, it } from 'vitest';
import { codeSpan, eventSummaryMarkdown } from './event-summary.ts';

const event = {
  auditID: '5b1c-77',
  requestReceivedTimestamp: '2026-11-27T20:01:02.123456Z',
  verb: 'list',
  requestURI: '/api/v1/namespaces/production/secrets?limit=500',
  user: { username: 'system:serviceaccount:production:web-app' },
  sourceIPs: ['10.244.0.7'],
  objectRef: { resource: 'secrets', namespace: 'production' },
  responseStatus: { code: 200 },
};

describe('pinned event summary', () => {
  it('says time, user, verb, resource, requestURI, response code and auditID in Markdown', () => {
    expect(eventSummaryMarkdown(event)).toBe(
      [
        'Audit event at 2026-11-27 20:01:02 UTC',
        '- user: `system:serviceaccount:production:web-app`',
        '- `list` `secrets production`',
        '- requestURI: `/api/v1/namespaces/production/secrets?limit=500`',
        '- response: 200',
        '- from: `10.244.0.7`',
        '- auditID: `5b1c-77`',
      ].join('\n'),
    );
  });

  it('keeps hostile or odd values inside their code spans, on one line, and bounded', () => {
    const odd = eventSummaryMarkdown({ user: { username: 'a`b\n# heading' }, impersonatedUser: { username: 'alice' }, requestURI: `/x?${'q'.repeat(1000)}`, objectRef: { resource: 'pods', subresource: 'exec', namespace: 'p', name: 'web-1' } });
    expect(odd).toContain('- user: ``a`b # heading`` acting as `alice`');
    expect(odd).toContain('`pods/exec p/web-1`');
    expect(odd.split('\n')).toHaveLength(6);
    expect(odd.length).toBeLessThan(700);
    expect(odd).toContain('- response: none recorded');
    expect(codeSpan('`x`')).toBe('`` `x` ``');
  });
});
