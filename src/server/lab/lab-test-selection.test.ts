import { describe, expect, it } from 'vitest';
import { labsToProve } from './cli.ts';

const labs = [
  { slug: 'l18', lab: { engine: 'any' as const } },
  { slug: 'node-escape', lab: { engine: 'kind' as const } },
];
const slugs = (list: Array<{ slug: string }>) => list.map((l) => l.slug);

describe('which labs irlab test proves', () => {
  it('--all on the embedded engine skips a kind lab, naming it, instead of failing it', () => {
    const { chosen, skipped } = labsToProve(labs, { all: true, slugs: [], provider: 'embedded' });
    expect([slugs(chosen), slugs(skipped)]).toEqual([['l18'], ['node-escape']]);
  });
  it('--all on kind proves every lab', () => {
    const { chosen, skipped } = labsToProve(labs, { all: true, slugs: [], provider: 'kind' });
    expect([slugs(chosen), slugs(skipped)]).toEqual([['l18', 'node-escape'], []]);
  });
  it('a lab named on the command line is tried whatever its engine (the lab service says why it cannot start)', () => {
    expect(slugs(labsToProve(labs, { all: false, slugs: ['node-escape'], provider: 'embedded' }).chosen)).toEqual(['node-escape']);
  });
});
