/**
 * The instructor token guards the instructor pages (item statistics, later authoring tools).
 * `IRLAB_INSTRUCTOR_TOKEN` sets it; otherwise one is generated on first start, kept in the data
 * directory (readable by the owner only) and printed once, so a self-hoster can find it.
 */
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dataDir } from '../store/database.ts';

export const INSTRUCTOR_COOKIE = 'irlab_instructor';
export const TOKEN_FILE = 'instructor-token';

export interface TokenDeps {
  env?: NodeJS.ProcessEnv;
  dir?: string;
  log?: (line: string) => void;
  random?: (size: number) => Buffer;
}

export function ensureInstructorToken({ env = process.env, dir = dataDir(env), log = console.log, random = randomBytes }: TokenDeps = {}): { token: string; source: 'env' | 'file' | 'generated'; file?: string } {
  const fromEnv = env.IRLAB_INSTRUCTOR_TOKEN?.trim();
  if (fromEnv) return { token: fromEnv, source: 'env' };
  const file = path.join(dir, TOKEN_FILE);
  if (existsSync(file)) {
    const stored = readFileSync(file, 'utf8').trim();
    if (stored) return { token: stored, source: 'file', file };
  }
  const token = random(24).toString('base64url');
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  log(`irlab: instructor token generated: ${token}`);
  log(`irlab: it is stored in ${file}; set IRLAB_INSTRUCTOR_TOKEN to choose your own. Instructor pages: /instructor/quizzes/<quiz>`);
  return { token, source: 'generated', file };
}

/** Constant-time comparison, so response timing does not reveal how much of a guess was right. */
export function tokenMatches(candidate: string | null | undefined, token: string): boolean {
  if (!candidate) return false;
  const a = createHash('sha256').update(candidate).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

/** Whether a request carries the instructor `token` (Authorization: Bearer, or the instructor cookie). */
export function isInstructor(token: string, request: Request, cookieValue: string | undefined): boolean {
  const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.get('authorization') ?? '')?.[1];
  return tokenMatches(bearer, token) || tokenMatches(cookieValue, token);
}
