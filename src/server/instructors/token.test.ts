import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureInstructorToken, TOKEN_FILE, tokenMatches } from './token.ts';

describe('instructor token', () => {
  it('uses IRLAB_INSTRUCTOR_TOKEN when set, and writes nothing', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'irlab-token-'));
    try {
      expect(ensureInstructorToken({ env: { IRLAB_INSTRUCTOR_TOKEN: 'from-env' }, dir, log: () => {} })).toEqual({ token: 'from-env', source: 'env' });
      await expect(stat(path.join(dir, TOKEN_FILE))).rejects.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('generates one on first start, stores it owner-only, prints it once, and reuses it', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'irlab-token-'));
    try {
      const printed: string[] = [];
      const first = ensureInstructorToken({ env: {}, dir, log: (l) => printed.push(l) });
      expect(first.source).toBe('generated');
      expect(first.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(printed.join('\n')).toContain(first.token);
      const file = path.join(dir, TOKEN_FILE);
      expect((await readFile(file, 'utf8')).trim()).toBe(first.token);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const again: string[] = [];
      expect(ensureInstructorToken({ env: {}, dir, log: (l) => again.push(l) })).toMatchObject({ token: first.token, source: 'file' });
      expect(again).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('compares tokens exactly', () => {
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abd', 'abc')).toBe(false);
    expect(tokenMatches('', 'abc')).toBe(false);
    expect(tokenMatches(undefined, 'abc')).toBe(false);
  });
});
