import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../app/config.ts';
import { findPlatform, parsePlatforms, PlatformFileError } from './platforms.ts';

const moodle = {
  name: 'Moodle',
  issuer: 'https://moodle.example.edu',
  clientId: 'abc',
  deploymentIds: ['1'],
  authLoginUrl: 'https://moodle.example.edu/mod/lti/auth.php',
  jwksUrl: 'https://moodle.example.edu/mod/lti/certs.php',
  tokenUrl: 'https://moodle.example.edu/mod/lti/token.php',
};

function problems(text: string): string[] {
  try {
    parsePlatforms(text, 'platforms.yaml');
  } catch (error) {
    if (error instanceof PlatformFileError) return error.problems;
    throw error;
  }
  return [];
}

describe('the LTI platforms file', () => {
  it('registers several platforms, YAML or JSON', () => {
    const canvas = { ...moodle, name: undefined, issuer: 'https://canvas.instructure.com', clientId: '10000000000001', authLoginUrl: 'https://sso.canvaslms.com/api/lti/authorize_redirect' };
    const platforms = parsePlatforms(JSON.stringify({ platforms: [moodle, canvas] }), 'p.json');
    expect(platforms.map((p) => p.name)).toEqual(['Moodle', 'https://canvas.instructure.com']);
    expect(findPlatform(platforms, 'https://canvas.instructure.com', undefined)?.clientId).toBe('10000000000001');
    expect(findPlatform(platforms, 'https://moodle.example.edu', 'other')).toBeUndefined();
  });

  it('reports every problem at once, with its path and how to fix it', () => {
    const found = problems(`platforms:\n  - issuer: ""\n    clientId: abc\n    deploymentIds: []\n    authLoginUrl: http://lms.example.edu/auth\n    jwksUrl: not a url\n    tokenUrl: https://lms.example.edu/token\n`);
    expect(found).toHaveLength(4);
    expect(found.join('\n')).toMatch(/platforms\.0\.issuer is empty/);
    expect(found.join('\n')).toMatch(/platforms\.0\.deploymentIds lists no deployment/);
    expect(found.join('\n')).toMatch(/platforms\.0\.authLoginUrl is not an https URL/);
    expect(found.join('\n')).toMatch(/platforms\.0\.jwksUrl is not an https URL/);
  });

  it('accepts http only on localhost (a simulator), refuses a registration listed twice', () => {
    expect(problems(JSON.stringify({ platforms: [{ ...moodle, jwksUrl: 'http://127.0.0.1:9999/jwks' }] }))).toEqual([]);
    expect(problems(JSON.stringify({ platforms: [moodle, moodle] }))).toEqual([expect.stringMatching(/a second time/)]);
    expect(problems('platforms: [')).toEqual([expect.stringMatching(/is not YAML or JSON/)]);
  });

  it('stops the boot through IRLAB_LTI_PLATFORMS, naming the variable and every problem', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'irlab-lti-'));
    try {
      const file = path.join(dir, 'platforms.yaml');
      await writeFile(file, JSON.stringify({ platforms: [{ ...moodle, clientId: '', tokenUrl: 'ftp://x' }] }));
      expect(() => loadConfig({ IRLAB_LTI_PLATFORMS: file })).toThrow(/IRLAB_LTI_PLATFORMS=.*clientId is empty[\s\S]*IRLAB_LTI_PLATFORMS=.*tokenUrl is not an https URL/);
      expect(() => loadConfig({ IRLAB_LTI_PLATFORMS: path.join(dir, 'missing.yaml') })).toThrow(/cannot be read \(ENOENT\)/);
      await writeFile(file, JSON.stringify({ platforms: [moodle] }));
      expect(loadConfig({ IRLAB_LTI_PLATFORMS: file }).lti?.platforms[0]?.issuer).toBe(moodle.issuer);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
