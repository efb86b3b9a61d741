/**
 * The rules settings are parsed with (config.ts): a number in a range, one of some words, a URL of
 * a kind, a flag, a file checked when read. Each gives the default for unset or blank and names
 * what it wants otherwise, so config.ts reports every problem at once in the same words.
 */
import { z } from 'zod';
import { loadPlatforms, PlatformFileError, type Platform } from '../lti/platforms.ts';

/** A number the check accepts; unset or blank gives the default, anything else names what it wants. */
function number(fallback: number, accepts: (value: number) => boolean, wanted: string) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === '') return fallback;
      const value = Number(raw);
      if (accepts(value)) return value;
      ctx.addIssue({ code: 'custom', message: `is not ${wanted}; set it to, for example, ${fallback}, or unset it` });
      return z.NEVER;
    });
}

/** A whole number in [min, max]. */
export function whole(fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) {
  const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
  return number(fallback, (value) => Number.isInteger(value) && value >= min && value <= max, `a whole number ${range}`);
}

/** A number ≥ 0 (a scale). */
export function scale(fallback: number) {
  return number(fallback, (value) => Number.isFinite(value) && value >= 0, 'a number of at least 0');
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T, fallback: T[number]) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === '') return fallback;
      if ((values as readonly string[]).includes(raw.trim())) return raw.trim() as T[number];
      ctx.addIssue({ code: 'custom', message: `is not one of ${values.join(', ')}; set it to one of them (default ${fallback}), or unset it` });
      return z.NEVER;
    });
}

/** An absolute http(s) origin (no path, query or fragment), e.g. `https://irlab.example.org`. */
export const origin = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined || raw.trim() === '') return undefined;
    const url = URL.canParse(raw.trim()) ? new URL(raw.trim()) : undefined;
    if (url && (url.protocol === 'https:' || url.protocol === 'http:') && url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password) return url.origin;
    ctx.addIssue({ code: 'custom', message: 'is not an http(s) origin without a path; set it to, for example, https://irlab.example.org, or unset it' });
    return z.NEVER;
  });

/** The LRS's xAPI base: an http(s) URL with no credentials in it (they go in IRLAB_XAPI_KEY/SECRET); no trailing slash kept. */
export const lrsEndpoint = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined || raw.trim() === '') return undefined;
    const url = URL.canParse(raw.trim()) ? new URL(raw.trim()) : undefined;
    if (url && (url.protocol === 'https:' || url.protocol === 'http:') && !url.username && !url.password && !url.search && !url.hash) return url.href.replace(/\/+$/, '');
    ctx.addIssue({ code: 'custom', message: 'is not an http(s) URL of an xAPI base without credentials, query or fragment; set it to, for example, https://lrs.example.org/xapi (credentials in IRLAB_XAPI_KEY and IRLAB_XAPI_SECRET), or unset it' });
    return z.NEVER;
  });

/** An http(s) URL (an OIDC issuer may have a path, e.g. Keycloak's /realms/<realm>). */
export const httpUrl = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined || raw.trim() === '') return undefined;
    const url = URL.canParse(raw.trim()) ? new URL(raw.trim()) : undefined;
    if (url && (url.protocol === 'https:' || url.protocol === 'http:') && !url.search && !url.hash && !url.username && !url.password) return raw.trim();
    ctx.addIssue({ code: 'custom', message: 'is not an http(s) URL without a query; set it to the provider\'s issuer, for example https://keycloak.example.org/realms/school, or unset it' });
    return z.NEVER;
  });

/**
 * A PostgreSQL connection URL (postgres:// or postgresql://, a host or `?host=/socket/dir`, a
 * database). Its password is never shown in a problem (shownValue).
 */
export const databaseUrl = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined || raw.trim() === '') return undefined;
    const url = URL.canParse(raw.trim()) ? new URL(raw.trim()) : undefined;
    if (url && (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && (url.hostname || url.searchParams.get('host')) && url.pathname.length > 1 && !url.hash) return raw.trim();
    ctx.addIssue({ code: 'custom', message: 'is not a PostgreSQL URL with a host and a database; set it to, for example, postgres://irlab:PASSWORD@db.example.org:5432/irlab, or unset it to keep SQLite under IRLAB_DATA_DIR' });
    return z.NEVER;
  });

export const text = z
  .string()
  .optional()
  .transform((raw) => (raw === undefined || raw.trim() === '' ? undefined : raw));

export const flag = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    const value = (raw ?? '').trim().toLowerCase();
    if (['', '0', 'false', 'no'].includes(value)) return false;
    if (['1', 'true', 'yes'].includes(value)) return true;
    ctx.addIssue({ code: 'custom', message: 'is not 1 or 0; set it to 1 (on) or 0 (off), or unset it' });
    return z.NEVER;
  });

/** A check that reuses a module's own parser (one rule, one message), keeping the raw text. */
export function checkedBy(parse: (raw: string | undefined) => unknown) {
  return z
    .string()
    .optional()
    .superRefine((raw, ctx) => {
      try {
        parse(raw);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error instanceof Error ? error.message : String(error)).replace(/^IRLAB_[A-Z_]+=("[^"]*"|\S+) /, '') });
      }
    })
    .transform((raw) => (raw === undefined || raw.trim() === '' ? undefined : raw));
}

/** The LTI platforms file, read and checked at boot: every problem in it at once. */
export const ltiPlatforms = z
  .string()
  .optional()
  .transform((raw, ctx): { file: string; platforms: Platform[] } | undefined => {
    if (raw === undefined || raw.trim() === '') return undefined;
    try {
      return { file: raw.trim(), platforms: loadPlatforms(raw.trim()) };
    } catch (error) {
      if (!(error instanceof PlatformFileError)) throw error;
      for (const problem of error.problems) ctx.addIssue({ code: 'custom', message: /^(cannot|is not YAML)/.test(problem) ? problem : `names a file in which ${problem}` });
      return z.NEVER;
    }
  });

