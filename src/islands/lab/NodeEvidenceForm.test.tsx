// The node-evidence form as a learner first sees it, rendered to markup (no DOM needed): every
// control labelled, the allow-listed collections and nothing else, what the chosen one takes.
// server.node, not server: the browser-code lint forbids paths ending in /server, and this runs in Node.
import { renderToStaticMarkup } from 'react-dom/server.node';
import { describe, expect, it } from 'vitest';

import { NODE_EVIDENCE_COLLECTIONS } from '../../lib/node-evidence-collections.ts';
import { NodeEvidenceForm } from './NodeEvidenceForm.tsx';

describe('the node-evidence form', () => {
  const html = renderToStaticMarkup(<NodeEvidenceForm slug="node-escape" onCollected={() => {}} />);

  it('offers exactly the allow-listed collections, each control labelled', () => {
    expect([...html.matchAll(/<option value="([^"]+)"/g)].map((m) => m[1])).toEqual([...NODE_EVIDENCE_COLLECTIONS]);
    for (const [, id] of html.matchAll(/<(?:select|input) id="([^"]+)"/g)) expect(html).toContain(`for="${id}"`);
    expect(html).toMatch(/<button type="submit"[^>]*>Collect<\/button>/);
    expect(html).toContain('role="status"');
  });

  it('says the learner gets no shell on the node, and what the first collection takes and gives', () => {
    const text = html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    expect(text).toContain('You get no shell on the node');
    expect(text).toMatch(/Takes none; gives every container on the node/);
    // containers takes no arguments: the field is off until a collection needs one.
    expect(html).toMatch(/<input [^>]*disabled=""[^>]*name="args"|<input [^>]*name="args"[^>]*disabled=""/);
  });
});
