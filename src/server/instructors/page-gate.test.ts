import type { AstroCookies } from 'astro';
import { describe, expect, it } from 'vitest';
import { instructorGate } from './page-gate.ts';
import { INSTRUCTOR_COOKIE } from './token.ts';

const TOKEN = 'a-long-instructor-token-of-forty-characters!';

/** The two calls the gate makes on Astro's cookie jar, over a plain map. */
function jar(initial: Record<string, string> = {}) {
  const values = new Map(Object.entries(initial));
  const cookies = {
    get: (name: string) => (values.has(name) ? { value: values.get(name)! } : undefined),
    set: (name: string, value: string) => void values.set(name, value),
  } as unknown as AstroCookies;
  return { cookies, values };
}

const url = new URL('http://irlab.test/instructor');
const post = (body: string, type = 'application/x-www-form-urlencoded') => new Request(url, { method: 'POST', body, headers: { 'content-type': type } });

describe('instructorGate', () => {
  it('signs in with the right token: cookie set, redirect to the same page', async () => {
    const { cookies, values } = jar();
    expect(await instructorGate(post(`token=${encodeURIComponent(TOKEN)}`), url, cookies, TOKEN)).toEqual({ redirect: '/instructor' });
    expect(values.get(INSTRUCTOR_COOKIE)).toBe(TOKEN);
  });

  it('refuses a wrong token, and a body that is not a form at all, without throwing', async () => {
    for (const request of [post('token=nope'), post('\u0000{not a form', 'multipart/form-data; boundary=x')]) {
      const { cookies, values } = jar();
      expect(await instructorGate(request, url, cookies, TOKEN)).toEqual({ allowed: false, rejected: true });
      expect(values.size).toBe(0);
    }
  });

  it('lets in the cookie or the Bearer header, nobody else', async () => {
    expect(await instructorGate(new Request(url), url, jar({ [INSTRUCTOR_COOKIE]: TOKEN }).cookies, TOKEN)).toEqual({ allowed: true, rejected: false });
    expect(await instructorGate(new Request(url, { headers: { authorization: `Bearer ${TOKEN}` } }), url, jar().cookies, TOKEN)).toEqual({ allowed: true, rejected: false });
    expect(await instructorGate(new Request(url), url, jar({ [INSTRUCTOR_COOKIE]: 'guess' }).cookies, TOKEN)).toEqual({ allowed: false, rejected: false });
  });
});
