// The events-per-minute chart, rendered to markup on the server (no DOM needed).
// server.node, not server: the browser-code lint forbids paths ending in /server, and this runs in Node.
import { renderToStaticMarkup } from 'react-dom/server.node';
import { describe, expect, it } from 'vitest';
import { Timeline } from './Timeline.tsx';

const bucket = (minute: string, count: number, highlighted = 0) => ({ minute: `2026-12-07T${minute}:00.000Z`, count, highlighted });
const widths = (html: string) => [...html.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)"/g)].map((m) => Number(m[1]));

describe('Timeline', () => {
  // Seen in the drill room's screenshot: a seeded incident's events all fell in one minute, and
  // that minute's bar was the whole chart, a solid striped block with "10:51" at both ends.
  it('draws one busy minute as one bar, not a block as wide as the chart', () => {
    const html = renderToStaticMarkup(<Timeline buckets={[bucket('10:51', 18, 18)]} highlighted={['attacker']} />);
    expect(Math.max(...widths(html))).toBeLessThanOrEqual(640 / 12);
    expect(html).toContain('<span>10:51 UTC</span></div>'); // one axis label, not "10:51" at both ends
  });

  it('spreads many minutes over the whole width', () => {
    const buckets = Array.from({ length: 32 }, (_, i) => bucket(`10:${String(10 + i).padStart(2, '0')}`, 1 + (i % 5)));
    const html = renderToStaticMarkup(<Timeline buckets={buckets} highlighted={[]} />);
    expect(widths(html)).toHaveLength(32);
    expect(Math.max(...widths(html))).toBeCloseTo(640 / 32 - 1);
    expect(html).toContain('<span>10:10</span><span>10:41 UTC</span>');
  });
});
