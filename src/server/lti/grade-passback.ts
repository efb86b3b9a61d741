/**
 * Assignment and Grade Services score passback: a learner who completes a lab or quiz they
 * launched from an LMS gets their score posted to the line item of that launch. Scores go through
 * a table (lti_score_outbox) first and are drained with backoff, so a platform that is down for a
 * while loses nothing: a row is deleted only once the platform accepted it. The listener's promise
 * resolves once the rows are written (learning-events.ts: the emitter awaits it); posting happens
 * in the background.
 *
 * A drain claims each due row before posting it: one conditional UPDATE moves its `next_at` a
 * lease ahead (CLAIM_MS) only if it is still due, so two drains (two processes on PostgreSQL)
 * never post one score twice; the second's UPDATE finds the row no longer due. A drain that dies
 * mid-post leaves the row to come due again when the lease runs out.
 *
 * The access token comes from the platform's token endpoint by the client-credentials grant with
 * a JWT client assertion signed with irlab's key (LTI Security Framework 4.1), kept until it
 * expires.
 */
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import type { LearningEvent } from '../learners/learning-events.ts';
import type { SqlStore } from '../store/sql-store.ts';
import { AGS_SCOPE } from './claims.ts';
import { findPlatform, type Platform } from './platforms.ts';
import type { ToolKey } from './tool-key.ts';

export const SCORE_MEDIA_TYPE = 'application/vnd.ims.lis.v1.score+json';
/** After this many failed posts a score is kept but no longer tried (its row says why). */
export const MAX_ATTEMPTS = 12;
/** How long a drain holds a score it is posting: the token request and the post, 10 s each, with room. */
export const CLAIM_MS = 60_000;

export interface GradePassbackDeps {
  store: SqlStore;
  platforms: readonly Platform[];
  key: ToolKey;
  fetch?: typeof fetch;
  clock?: () => Date;
  log?: (line: string) => void;
  /** Delay before retry `attempt` (1-based): 5 s doubling, at most an hour. */
  backoffMs?: (attempt: number) => number;
}

export interface ScoreBody {
  userId: string;
  scoreGiven: number;
  scoreMaximum: number;
  activityProgress: 'Completed';
  gradingProgress: 'FullyGraded';
  timestamp: string;
}

/** `{lineitem}/scores`, keeping the line item URL's query (AGS 3.4). */
export function scoresUrl(lineitem: string): string {
  const url = new URL(lineitem);
  url.pathname = `${url.pathname.replace(/\/$/, '')}/scores`;
  return url.href;
}

const defaultBackoff = (attempt: number) => Math.min(5000 * 2 ** (attempt - 1), 3600_000);

export function gradePassback(deps: GradePassbackDeps) {
  const { store, platforms, key } = deps;
  const clock = deps.clock ?? (() => new Date());
  const log = deps.log ?? ((line) => console.error(line));
  const send = deps.fetch ?? fetch;
  const backoff = deps.backoffMs ?? defaultBackoff;
  const tokens = new Map<string, { token: string; until: number }>();
  let draining: Promise<void> | undefined;

  async function accessToken(platform: Platform): Promise<string> {
    const cacheKey = `${platform.issuer}\n${platform.clientId}`;
    const cached = tokens.get(cacheKey);
    if (cached && cached.until > clock().getTime()) return cached.token;
    const now = Math.floor(clock().getTime() / 1000);
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
      .setIssuer(platform.clientId)
      .setSubject(platform.clientId)
      .setAudience(platform.tokenUrl)
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .setJti(randomBytes(16).toString('base64url'))
      .sign(key.privateKey);
    const response = await send(platform.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
        scope: AGS_SCOPE.score,
      }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) throw new Error(`the token endpoint ${platform.tokenUrl} answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
    const body = (await response.json()) as { access_token?: unknown; expires_in?: unknown };
    if (typeof body.access_token !== 'string') throw new Error(`the token endpoint ${platform.tokenUrl} answered without an access_token`);
    const lifetime = typeof body.expires_in === 'number' ? body.expires_in : 3600;
    // A minute early: a token about to expire would fail the post it is used for.
    tokens.set(cacheKey, { token: body.access_token, until: clock().getTime() + Math.max(0, lifetime - 60) * 1000 });
    return body.access_token;
  }

  type ScoreRow = { id: number; issuer: string; client_id: string; lineitem: string; body: string; attempts: number };

  /** The oldest due score, claimed for CLAIM_MS; undefined when none is due (or another drain took it). */
  async function claimNext(): Promise<ScoreRow | undefined> {
    const now = clock();
    const at = now.toISOString();
    const until = new Date(now.getTime() + CLAIM_MS).toISOString();
    const due = 'failed_at IS NULL AND next_at <= ?';
    for (;;) {
      const next = await store.get<{ id: number }>(`SELECT id FROM lti_score_outbox WHERE ${due} ORDER BY id LIMIT 1`, [at]);
      if (!next) return undefined;
      const claimed = await store.get<ScoreRow>(`UPDATE lti_score_outbox SET next_at = ? WHERE id = ? AND ${due} RETURNING id, issuer, client_id, lineitem, body, attempts`, [until, next.id, at]);
      // Another drain claimed it between the two statements: look for the next one.
      if (claimed) return claimed;
    }
  }

  async function deliver(row: ScoreRow): Promise<void> {
    try {
      const platform = findPlatform(platforms, row.issuer, row.client_id);
      if (!platform) throw new Error(`the platform ${row.issuer} (client ${row.client_id}) is no longer registered`);
      const token = await accessToken(platform);
      const response = await send(scoresUrl(row.lineitem), {
        method: 'POST',
        headers: { 'content-type': SCORE_MEDIA_TYPE, authorization: `Bearer ${token}` },
        body: row.body,
        signal: AbortSignal.timeout(10_000),
      });
      if (response.status === 401) tokens.delete(`${platform.issuer}\n${platform.clientId}`);
      if (!response.ok) throw new Error(`the score endpoint answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
      await store.run('DELETE FROM lti_score_outbox WHERE id = ?', [row.id]);
    } catch (error) {
      const attempts = row.attempts + 1;
      const message = error instanceof Error ? error.message : String(error);
      const now = clock();
      if (attempts >= MAX_ATTEMPTS) {
        await store.run('UPDATE lti_score_outbox SET attempts = ?, last_error = ?, failed_at = ? WHERE id = ?', [attempts, message, now.toISOString(), row.id]);
        log(`irlab lti: a score for ${row.lineitem} was not accepted after ${attempts} tries; it stays in lti_score_outbox (${message})`);
      } else {
        const next = new Date(now.getTime() + backoff(attempts)).toISOString();
        await store.run('UPDATE lti_score_outbox SET attempts = ?, last_error = ?, next_at = ? WHERE id = ?', [attempts, message, next, row.id]);
        log(`irlab lti: posting a score to ${row.issuer} failed (try ${attempts}; next at ${next}): ${message}`);
      }
    }
  }

  const passback = {
    /** Queues the score of a completion for every LMS line item the learner launched this activity from. */
    async enqueue(event: LearningEvent): Promise<number> {
      if (event.type !== 'completed') return 0;
      const links = await store.all<{ issuer: string; client_id: string; subject: string; lineitem: string }>(
        'SELECT issuer, client_id, subject, lineitem FROM lti_grade_links WHERE learner_id = ? AND activity_kind = ? AND activity_slug = ? ORDER BY issuer, client_id',
        [event.learnerId, event.activity.kind, event.activity.slug],
      );
      if (links.length === 0) return 0;
      const now = clock().toISOString();
      await store.transaction(async (tx) => {
        for (const link of links) {
        const body: ScoreBody = {
          userId: link.subject,
          scoreGiven: event.score.raw,
          scoreMaximum: event.score.max,
          activityProgress: 'Completed',
          gradingProgress: 'FullyGraded',
          timestamp: event.at,
        };
          await tx.run('INSERT INTO lti_score_outbox (issuer, client_id, lineitem, body, next_at, created_at) VALUES (?, ?, ?, ?, ?, ?)', [link.issuer, link.client_id, link.lineitem, JSON.stringify(body), now, now]);
        }
      });
      return links.length;
    },

    /** Posts every due score once (one drain at a time); failures are rescheduled with backoff. */
    drain(): Promise<void> {
      if (draining) return draining;
      const run = (async () => {
        for (let row = await claimNext(); row; row = await claimNext()) await deliver(row);
      })();
      // Cleared after it settles, never inside it (a drain may settle before `draining` is set).
      draining = run.finally(() => {
        draining = undefined;
      });
      return draining;
    },

    /** Resolves when no drain is running. */
    idle(): Promise<void> {
      return (draining ?? Promise.resolve()).catch(() => undefined);
    },

    /** Scores not delivered yet (tests, the operator). */
    async pending(): Promise<Array<{ lineitem: string; body: ScoreBody; attempts: number; lastError: string | null; failed: boolean }>> {
      return (await store.all<{ lineitem: string; body: string; attempts: number; last_error: string | null; failed_at: string | null }>('SELECT lineitem, body, attempts, last_error, failed_at FROM lti_score_outbox ORDER BY id')).map(
        (r) => ({ lineitem: r.lineitem, body: JSON.parse(r.body) as ScoreBody, attempts: r.attempts, lastError: r.last_error, failed: r.failed_at !== null }),
      );
    },

    /** The listener for `services.learningEvents`: resolves once queued; posting starts at once, in the background. */
    async listener(event: LearningEvent): Promise<void> {
      if ((await passback.enqueue(event)) > 0) void passback.drain().catch((error: unknown) => log(`irlab lti: draining the score outbox failed: ${String(error)}`));
    },
  };
  return passback;
}

export type GradePassback = ReturnType<typeof gradePassback>;
