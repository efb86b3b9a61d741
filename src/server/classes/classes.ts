/**
 * Classes: an instructor's group of learners with a join code, assignments (labs and quizzes with
 * optional due dates) and messages. Joining with a name and the code (an event, no account) makes
 * or reuses this browser's learner and links it by a `join-code` identity; a second device rejoins
 * only with the rejoin key shown once at joining, since a name and a code shared with the whole
 * room would let anyone take over anyone's progress.
 *
 * Members, assignments and messages keep the order they came in by a per-class `seq` (classes/2),
 * the next one taken in the INSERT itself; two inserts racing on PostgreSQL may share a number,
 * and then the time and the id decide (a total order either way). Joining twice at once from one
 * browser adds one member (ON CONFLICT on the member's key), and a new class's code is taken by
 * its INSERT (ON CONFLICT on the open-code index), so no check-then-write race is left to lose.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IdentityService } from '../learners/identities.ts';
import type { LearnerService } from '../learners/learners.ts';
import type { SqlStore } from '../store/sql-store.ts';
import { brandStatus } from '../../lib/error-status.ts';
import { formatJoinCode, JOIN_CODE_HELP, newJoinCode, normaliseJoinCode } from './join-code.ts';
import { parseSchedule, type ClassSchedule } from './schedule.ts';
import { cleanMessage, cleanName, CLASS_NAME_MAX } from './untrusted-text.ts';

export class ClassError extends Error {
  constructor(message: string, status: number) {
    super(message);
    brandStatus(this, status);
  }
}

export interface ClassRecord {
  id: string;
  name: string;
  /** XXXX-XXXX. */
  joinCode: string;
  createdBy: string;
  createdAt: string;
  closedAt: string | undefined;
  stuckAfterSeconds: number;
  /** When it runs and how many learners to expect (schedule.ts); undefined until the instructor says. */
  schedule: ClassSchedule | undefined;
}

export type AssignmentKind = 'lab' | 'quiz';
export interface Assignment {
  kind: AssignmentKind;
  slug: string;
  dueAt: string | undefined;
}

export interface Member {
  learnerId: string;
  name: string;
  joinedAt: string;
}

export interface Notice {
  id: string;
  classId: string;
  className: string;
  /** true: to the whole class; false: to this learner only. */
  toClass: boolean;
  text: string;
  sentAt: string;
}

interface ClassRow {
  id: string;
  name: string;
  join_code: string;
  created_by: string;
  created_at: string;
  closed_at: string | null;
  stuck_after_seconds: number;
  starts_at: string | null;
  ends_at: string | null;
  expected_learners: number | null;
}
const toClass = (r: ClassRow): ClassRecord => ({
  id: r.id,
  name: r.name,
  joinCode: formatJoinCode(r.join_code),
  createdBy: r.created_by,
  createdAt: r.created_at,
  closedAt: r.closed_at ?? undefined,
  stuckAfterSeconds: r.stuck_after_seconds,
  schedule: r.starts_at && r.ends_at && r.expected_learners ? { startsAt: r.starts_at, endsAt: r.ends_at, expectedLearners: Number(r.expected_learners) } : undefined,
});

const sha256 = (text: string) => createHash('sha256').update(text).digest();
export const CLASS_ID_PATTERN = /^cls_[A-Za-z0-9_-]{16}$/;
/** The longest a stuck threshold may be: a day. */
export const STUCK_MAX_SECONDS = 86_400;

export interface ClassDeps {
  store: SqlStore;
  learners: LearnerService;
  identities: IdentityService;
  clock?: () => Date;
  random?: (size: number) => Buffer;
  pickCode?: (n: number) => number;
}

/** What joining did: the learner, a new session token when the browser must switch to them, the rejoin key once. */
export interface Joined {
  classId: string;
  learnerId: string;
  name: string;
  token?: string;
  rejoinKey?: string;
}

export function classService({ store, learners, identities, clock = () => new Date(), random = randomBytes, pickCode }: ClassDeps) {
  const now = () => clock().toISOString();
  const row = (id: string) => store.get<ClassRow>('SELECT id, name, join_code, created_by, created_at, closed_at, stuck_after_seconds, starts_at, ends_at, expected_learners FROM classes WHERE id = ?', [id]);
  const found = async (id: string) => toClass((await row(id))!);
  async function must(id: string): Promise<ClassRow> {
    const klass = CLASS_ID_PATTERN.test(id) ? await row(id) : undefined;
    if (!klass) throw new ClassError(`no class has the id ${JSON.stringify(id.slice(0, 40))}: open it from /instructor/classes`, 404);
    return klass;
  }
  async function mustBeOpen(id: string): Promise<ClassRow> {
    const klass = await must(id);
    if (klass.closed_at) throw new ClassError(`the class "${klass.name}" is closed: nobody can join it or get new work`, 409);
    return klass;
  }
  /** A code no open class uses (a clash is as rare as 1 in 10^11 per open class, but is checked). */
  async function freshCode(): Promise<string> {
    for (;;) {
      const code = newJoinCode(pickCode);
      if (!(await store.get('SELECT 1 AS used FROM classes WHERE join_code = ? AND closed_at IS NULL', [code]))) return code;
    }
  }
  const memberRow = (classId: string, learnerId: string) => store.get<{ display_name: string }>('SELECT display_name FROM class_members WHERE class_id = ? AND learner_id = ?', [classId, learnerId]);
  /** The next number in a class's `seq` order, computed by the INSERT that takes it. */
  const nextSeq = (table: 'class_members' | 'class_assignments' | 'class_messages') => `(SELECT COALESCE(MAX(seq), 0) + 1 FROM ${table} WHERE class_id = ?)`;

  const service = {
    async create(name: unknown, createdBy: string): Promise<ClassRecord> {
      const cleaned = cleanName(name, 'the class name', CLASS_NAME_MAX);
      if (!cleaned.ok) throw new ClassError(cleaned.error, 400);
      for (;;) {
        const id = `cls_${random(12).toString('base64url')}`;
        // An open class holding the code (or, never seen, the id) makes it insert nothing: draw again.
        const made = await store.run('INSERT INTO classes (id, name, join_code, created_by, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING', [id, cleaned.value, newJoinCode(pickCode), createdBy, now()]);
        if (made.changes === 1) return found(id);
      }
    },

    get: async (id: string): Promise<ClassRecord | undefined> => {
      const klass = CLASS_ID_PATTERN.test(id) ? await row(id) : undefined;
      return klass ? toClass(klass) : undefined;
    },
    list: async (): Promise<ClassRecord[]> =>
      (await store.all<ClassRow>('SELECT id, name, join_code, created_by, created_at, closed_at, stuck_after_seconds, starts_at, ends_at, expected_learners FROM classes ORDER BY CASE WHEN closed_at IS NULL THEN 0 ELSE 1 END, created_at DESC, id')).map(toClass),

    /** A new code: the old one stops working at once (a code that leaked). */
    async rotate(id: string): Promise<ClassRecord> {
      await mustBeOpen(id);
      await store.run('UPDATE classes SET join_code = ? WHERE id = ?', [await freshCode(), id]);
      return found(id);
    },

    async close(id: string): Promise<ClassRecord> {
      await must(id);
      await store.run('UPDATE classes SET closed_at = COALESCE(closed_at, ?) WHERE id = ?', [now(), id]);
      return found(id);
    },

    async setStuckAfter(id: string, seconds: unknown): Promise<ClassRecord> {
      await must(id);
      if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 1 || seconds > STUCK_MAX_SECONDS) {
        throw new ClassError(`the stuck threshold must be a whole number of seconds from 1 to ${STUCK_MAX_SECONDS} (a day); 600 is ten minutes`, 400);
      }
      await store.run('UPDATE classes SET stuck_after_seconds = ? WHERE id = ?', [seconds, id]);
      return found(id);
    },

    /**
     * When the class runs and how many to expect (null: no schedule). Warm pools are sized from it
     * (cells/warm-plan.ts); `maxLearners` is the operator's bound on the number (IRLAB_CLASS_MAX_EXPECTED).
     */
    async setSchedule(id: string, input: unknown, maxLearners?: number): Promise<ClassRecord> {
      await mustBeOpen(id);
      const parsed = parseSchedule(input, clock(), maxLearners);
      if (!parsed.ok) throw new ClassError(parsed.error, 400);
      const s = parsed.value;
      await store.run('UPDATE classes SET starts_at = ?, ends_at = ?, expected_learners = ? WHERE id = ?', [s?.startsAt ?? null, s?.endsAt ?? null, s?.expectedLearners ?? null, id]);
      return found(id);
    },

    /** Assigns a lab or quiz (the caller checked the slug against the real catalog); again: a new due date. */
    async assign(id: string, kind: AssignmentKind, slug: string, dueAt: string | undefined): Promise<void> {
      await mustBeOpen(id);
      await store.run(
        `INSERT INTO class_assignments (class_id, kind, slug, due_at, assigned_at, seq) VALUES (?, ?, ?, ?, ?, ${nextSeq('class_assignments')}) ON CONFLICT (class_id, kind, slug) DO UPDATE SET due_at = excluded.due_at`,
        [id, kind, slug, dueAt ?? null, now(), id],
      );
    },

    async unassign(id: string, kind: AssignmentKind, slug: string): Promise<void> {
      await must(id);
      await store.run('DELETE FROM class_assignments WHERE class_id = ? AND kind = ? AND slug = ?', [id, kind, slug]);
    },

    assignments: async (id: string): Promise<Assignment[]> =>
      (await store.all<{ kind: AssignmentKind; slug: string; due_at: string | null }>('SELECT kind, slug, due_at FROM class_assignments WHERE class_id = ? ORDER BY assigned_at, seq, kind, slug', [id])).map((r) => ({
        kind: r.kind,
        slug: r.slug,
        dueAt: r.due_at ?? undefined,
      })),

    members: async (id: string): Promise<Member[]> =>
      (await store.all<{ learner_id: string; display_name: string; joined_at: string }>('SELECT learner_id, display_name, joined_at FROM class_members WHERE class_id = ? ORDER BY joined_at, seq, learner_id', [id])).map((r) => ({
        learnerId: r.learner_id,
        name: r.display_name,
        joinedAt: r.joined_at,
      })),

    isMember: async (id: string, learnerId: string): Promise<boolean> => (await memberRow(id, learnerId)) !== undefined,

    classesOf: async (learnerId: string): Promise<ClassRecord[]> =>
      (
        await store.all<ClassRow>(
          'SELECT c.id, c.name, c.join_code, c.created_by, c.created_at, c.closed_at, c.stuck_after_seconds, c.starts_at, c.ends_at, c.expected_learners FROM classes c JOIN class_members m ON m.class_id = c.id WHERE m.learner_id = ? ORDER BY m.joined_at DESC, c.id',
          [learnerId],
        )
      ).map(toClass),

    /**
     * Joining with the code and a name. `current` is the browser's learner, if it has one: it is
     * reused (its progress stays its own). `rejoinKey`: the key this name got at joining, typed on
     * another device; it switches that device to the same learner.
     */
    async join(input: { code: unknown; name: unknown; rejoinKey?: unknown; current: string | undefined }): Promise<Joined> {
      const code = normaliseJoinCode(input.code);
      if (!code) throw new ClassError(`that is not a join code: ${JOIN_CODE_HELP}`, 400);
      const name = cleanName(input.name, 'your name');
      if (!name.ok) throw new ClassError(name.error, 400);
      const klass = await store.get<ClassRow>('SELECT id, name, join_code, created_by, created_at, closed_at, stuck_after_seconds, starts_at, ends_at, expected_learners FROM classes WHERE join_code = ? AND closed_at IS NULL', [code]);
      if (!klass) throw new ClassError('no open class has this join code: check it with your instructor (codes change when an instructor rotates one)', 404);
      const sameName = await store.get<{ learner_id: string; rejoin_key_hash: string | null }>('SELECT learner_id, rejoin_key_hash FROM class_members WHERE class_id = ? AND lower(display_name) = lower(?)', [klass.id, name.value]);

      if (typeof input.rejoinKey === 'string' && input.rejoinKey.trim()) {
        const key = normaliseJoinCode(input.rejoinKey);
        const stored = sameName?.rejoin_key_hash ? Buffer.from(sameName.rejoin_key_hash, 'hex') : undefined;
        // Compared as hashes in constant time; a wrong key and an unknown name read the same.
        const matches = key !== undefined && stored !== undefined && timingSafeEqual(sha256(key), stored);
        if (!matches || !sameName) throw new ClassError('that name and rejoin key do not match anyone in this class: check both (the key was shown when you first joined)', 403);
        return { classId: klass.id, learnerId: sameName.learner_id, name: name.value, token: await learners.startSession(sameName.learner_id) };
      }
      // A rejoin key typed names whom to switch to; without one, this browser's member stays who it is.
      const already = input.current ? await memberRow(klass.id, input.current) : undefined;
      if (input.current && already) return { classId: klass.id, learnerId: input.current, name: already.display_name };
      if (sameName) throw new ClassError('someone in this class already uses this name: choose another (add an initial), or, if it is you on another device, type the rejoin key you were shown', 409);

      let learnerId = input.current;
      let token: string | undefined;
      if (!learnerId) {
        const created = await learners.create(name.value);
        learnerId = created.learner.id;
        token = created.token;
      } else if (!(await learners.get(learnerId))?.displayName) {
        await learners.setDisplayName(learnerId, name.value);
      }
      const rejoinKey = newJoinCode(pickCode);
      const added = await store.run(
        `INSERT INTO class_members (class_id, learner_id, display_name, rejoin_key_hash, joined_at, seq) VALUES (?, ?, ?, ?, ?, ${nextSeq('class_members')}) ON CONFLICT (class_id, learner_id) DO NOTHING`,
        [klass.id, learnerId, name.value, sha256(rejoinKey).toString('hex'), now(), klass.id],
      );
      if (added.changes === 0) {
        // This browser's other request (a double submit) joined it a moment ago: that one's member stands.
        const member = await memberRow(klass.id, learnerId);
        return { classId: klass.id, learnerId, name: member?.display_name ?? name.value };
      }
      await identities.link(learnerId, { kind: 'join-code', issuer: klass.id, subject: `jc_${random(12).toString('base64url')}` });
      return { classId: klass.id, learnerId, name: name.value, ...(token ? { token } : {}), rejoinKey: formatJoinCode(rejoinKey) };
    },

    /** A message to one member (`learnerId`) or the whole class (undefined). */
    async message(id: string, learnerId: string | undefined, text: unknown): Promise<Notice> {
      const klass = await must(id);
      const cleaned = cleanMessage(text);
      if (!cleaned.ok) throw new ClassError(cleaned.error, 400);
      if (learnerId !== undefined && !(await memberRow(id, learnerId))) throw new ClassError('that learner is not in this class: pick one from the dashboard', 404);
      const notice = { id: `msg_${random(12).toString('base64url')}`, classId: id, className: klass.name, toClass: learnerId === undefined, text: cleaned.value, sentAt: now() };
      await store.run(`INSERT INTO class_messages (id, class_id, learner_id, text, sent_at, seq) VALUES (?, ?, ?, ?, ?, ${nextSeq('class_messages')})`, [notice.id, id, learnerId ?? null, notice.text, notice.sentAt, id]);
      return notice;
    },

    /** Messages for this learner (their classes' and their own) they have not dismissed, oldest first. */
    async noticesFor(learnerId: string): Promise<Notice[]> {
      const rows = await store.all<{ id: string; class_id: string; name: string; learner_id: string | null; text: string; sent_at: string }>(
        `SELECT m.id, m.class_id, c.name, m.learner_id, m.text, m.sent_at FROM class_messages m
           JOIN classes c ON c.id = m.class_id
           JOIN class_members cm ON cm.class_id = m.class_id AND cm.learner_id = ?
          WHERE (m.learner_id IS NULL OR m.learner_id = ?)
            AND NOT EXISTS (SELECT 1 FROM class_message_dismissals d WHERE d.message_id = m.id AND d.learner_id = ?)
          ORDER BY m.sent_at, m.seq, m.id`,
        [learnerId, learnerId, learnerId],
      );
      return rows.map((r) => ({ id: r.id, classId: r.class_id, className: r.name, toClass: r.learner_id === null, text: r.text, sentAt: r.sent_at }));
    },

    async dismiss(learnerId: string, messageId: unknown): Promise<void> {
      if (typeof messageId !== 'string' || !/^msg_[A-Za-z0-9_-]{16}$/.test(messageId)) throw new ClassError('"id" must be a message id from /api/classes/notices', 400);
      if (!(await service.noticesFor(learnerId)).some((n) => n.id === messageId)) return;
      await store.run('INSERT INTO class_message_dismissals (message_id, learner_id) VALUES (?, ?) ON CONFLICT (message_id, learner_id) DO NOTHING', [messageId, learnerId]);
    },
  };
  return service;
}

export type ClassService = ReturnType<typeof classService>;
