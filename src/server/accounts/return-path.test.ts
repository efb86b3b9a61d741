import { describe, expect, it } from 'vitest';
import { safeReturnPath } from './return-path.ts';

describe('the post-sign-in return path', () => {
  it('keeps same-site paths with their query and fragment', () => {
    expect(safeReturnPath('/labs/l18?tab=notes#step-2')).toBe('/labs/l18?tab=notes#step-2');
    expect(safeReturnPath('/')).toBe('/');
  });

  it('turns anything that could leave the site, or loop, into /', () => {
    for (const hostile of [undefined, null, '', 'https://evil.example/', '//evil.example/x', '/\\evil.example', '/\t/evil.example', 'evil.example', 'javascript:alert(1)', '/%0a/x\n', '/auth/callback?code=x', `/${'a'.repeat(3000)}`]) {
      expect(safeReturnPath(hostile), String(hostile)).toBe('/');
    }
  });
});
