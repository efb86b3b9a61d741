import { describe, expect, it } from 'vitest';
import { buildToc, flattenToc } from './toc.ts';

describe('buildToc', () => {
  it('nests level-3 headings under the previous level-2 heading', () => {
    const toc = buildToc([
      { depth: 2, slug: 'a', text: 'A' },
      { depth: 3, slug: 'a-1', text: 'A1' },
      { depth: 3, slug: 'a-2', text: 'A2' },
      { depth: 2, slug: 'b', text: 'B' },
      { depth: 4, slug: 'b-deep', text: 'too deep' },
    ]);
    expect(toc.map((e) => e.slug)).toEqual(['a', 'b']);
    expect(toc[0]?.children.map((e) => e.slug)).toEqual(['a-1', 'a-2']);
    expect(flattenToc(toc)).toEqual(['a', 'a-1', 'a-2', 'b']);
  });

  it('keeps a level-3 heading that comes before any level-2 heading', () => {
    expect(buildToc([{ depth: 3, slug: 'early', text: 'Early' }]).map((e) => e.slug)).toEqual(['early']);
  });
});
