/**
 * Classes: an instructor's group of learners with a join code, assignments (labs and quizzes with
 * optional due dates) and messages. Joining with a name and the code (an event, no account) makes
 * or reuses this browser's learner and links it by a `join-code` identity; a second device rejoins
 * only with the rejoin key shown once at joining, since a name and a code shared with the whole
 * room would let anyone take over anyone's progress.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IdentityService } from '../learners/identities.ts';
import type { LearnerService } from '../learners/learners.ts';
import type { Store } from '../store/database.ts';
import { brandStatus } from '../../lib/error-status.ts';
import { formatJoinCode, JOIN_CODE_HELP, newJoinCode, normaliseJoinCode } from './join-code.ts';
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
}
const toClass = (r: ClassRow): ClassRecord => ({
  id: r.id,
  name: r.name,
  joinCode: formatJoinCode(r.join_code),
  createdBy: r.created_by,
  createdAt: r.created_at,
  closedAt: r.closed_at ?? undefined,
  stuckAfterSeconds: r.stuck_after_seconds,
});

const sha256 = (text: string) => createHash('sha256').update(text).digest();
export const CLASS_ID_PATTERN = /^cls_[A-Za-z0-9_-]{16}$/;
/** The longest a stuck threshold may be: a day. */
export const STUCK_MAX_SECONDS = 86_400;

export interface ClassDeps {
  store: Store;
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
  const row = (id: string) => store.prepare('SELECT * FROM classes WHERE id = ?').get(id) as ClassRow | undefined;
  function must(id: string): ClassRow {
    const found = CLASS_ID_PATTERN.test(id) ? row(id) : undefined;
    if (!found) throw new ClassError(`no class has the id ${JSON.stringify(id.slice(0, 40))}: open it from /instructor/classes`, 404);
    return found;
  }
  function mustBeOpen(id: string): ClassRow {
    const found = must(id);
    if (found.closed_at) throw new ClassError(`the class "${found.name}" is closed: nobody can join it or get new work`, 409);
    return found;
  }
  /** A code no open class uses (a clash is as rare as 1 in 10^11 per open class, but is checked). */
  function freshCode(): string {
    for (;;) {
      const code = newJoinCode(pickCode);
      if (!store.prepare('SELECT 1 FROM classes WHERE join_code = ? AND closed_at IS NULL').get(code)) return code;
    }
  }
  const memberRow = (classId: string, learnerId: string) =>
    store.prepare('SELECT display_name FROM class_members WHERE class_id = ? AND learner_id = ?').get(classId, learnerId) as { display_name: string } | undefined;

  const service = {
    create(name: unknown, createdBy: string): ClassRecord {
      const cleaned = cleanName(name, 'the class name', CLASS_NAME_MAX);
      if (!cleaned.ok) throw new ClassError(cleaned.error, 400);
      const id = `cls_${random(12).toString('base64url')}`;
      store.prepare('INSERT INTO classes (id, name, join_code, created_by, created_at) VALUES (?, ?, ?, ?, ?)').run(id, cleaned.value, freshCode(), createdBy, now());
      return toClass(row(id)!);
    },

    get: (id: string): ClassRecord | undefined => (CLASS_ID_PATTERN.test(id) ? (row(id) ? toClass(row(id)!) : undefined) : undefined),
    list: (): ClassRecord[] => (store.prepare('SELECT * FROM classes ORDER BY closed_at IS NOT NULL, created_at DESC').all() as unknown as ClassRow[]).map(toClass),

    /** A new code: the old one stops working at once (a code that leaked). */
    rotate(id: string): ClassRecord {
      mustBeOpen(id);
      store.prepare('UPDATE classes SET join_code = ? WHERE id = ?').run(freshCode(), id);
      return toClass(row(id)!);
    },

    close(id: string): ClassRecord {
      must(id);
      store.prepare('UPDATE classes SET closed_at = coalesce(closed_at, ?) WHERE id = ?').run(now(), id);
      return toClass(row(id)!);
    },

    setStuckAfter(id: string, seconds: unknown): ClassRecord {
      must(id);
      if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 1 || seconds > STUCK_MAX_SECONDS) {
        throw new ClassError(`the stuck threshold must be a whole number of seconds from 1 to ${STUCK_MAX_SECONDS} (a day); 600 is ten minutes`, 400);
      }
      store.prepare('UPDATE classes SET stuck_after_seconds = ? WHERE id = ?').run(seconds, id);
      return toClass(row(id)!);
    },

    /** Assigns a lab or quiz (the caller checked the slug against the real catalog); again: a new due date. */
    assign(id: string, kind: AssignmentKind, slug: string, dueAt: string | undefined): void {
      mustBeOpen(id);
      store
        .prepare('INSERT INTO class_assignments (class_id, kind, slug, due_at, assigned_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (class_id, kind, slug) DO UPDATE SET due_at = excluded.due_at')
        .run(id, kind, slug, dueAt ?? null, now());
    },

    unassign(id: string, kind: AssignmentKind, slug: string): void {
      must(id);
      store.prepare('DELETE FROM class_assignments WHERE class_id = ? AND kind = ? AND slug = ?').run(id, kind, slug);
    },

    assignments: (id: string): Assignment[] =>
      (store.prepare('SELECT kind, slug, due_at FROM class_assignments WHERE class_id = ? ORDER BY assigned_at, rowid').all(id) as Array<{ kind: AssignmentKind; slug: string; due_at: string | null }>).map(
        (r) => ({ kind: r.kind, slug: r.slug, dueAt: r.due_at ?? undefined }),
      ),

    members: (id: string): Member[] =>
      (store.prepare('SELECT learner_id, display_name, joined_at FROM class_members WHERE class_id = ? ORDER BY joined_at, rowid').all(id) as Array<{ learner_id: string; display_name: string; joined_at: string }>).map(
        (r) => ({ learnerId: r.learner_id, name: r.display_name, joinedAt: r.joined_at }),
      ),

    isMember: (id: string, learnerId: string): boolean => memberRow(id, learnerId) !== undefined,

    classesOf: (learnerId: string): ClassRecord[] =>
      (store.prepare('SELECT c.* FROM classes c JOIN class_members m ON m.class_id = c.id WHERE m.learner_id = ? ORDER BY m.joined_at DESC').all(learnerId) as unknown as ClassRow[]).map(toClass),

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
      const klass = store.prepare('SELECT * FROM classes WHERE join_code = ? AND closed_at IS NULL').get(code) as ClassRow | undefined;
      if (!klass) throw new ClassError('no open class has this join code: check it with your instructor (codes change when an instructor rotates one)', 404);
      const sameName = store
        .prepare('SELECT learner_id, rejoin_key_hash FROM class_members WHERE class_id = ? AND lower(display_name) = lower(?)')
        .get(klass.id, name.value) as { learner_id: string; rejoin_key_hash: string | null } | undefined;

      if (typeof input.rejoinKey === 'string' && input.rejoinKey.trim()) {
        const key = normaliseJoinCode(input.rejoinKey);
        const stored = sameName?.rejoin_key_hash ? Buffer.from(sameName.rejoin_key_hash, 'hex') : undefined;
        // Compared as hashes in constant time; a wrong key and an unknown name read the same.
        const matches = key !== undefined && stored !== undefined && timingSafeEqual(sha256(key), stored);
        if (!matches || !sameName) throw new ClassError('that name and rejoin key do not match anyone in this class: check both (the key was shown when you first joined)', 403);
        return { classId: klass.id, learnerId: sameName.learner_id, name: name.value, token: await learners.startSession(sameName.learner_id) };
      }
      // A rejoin key typed names whom to switch to; without one, this browser's member stays who it is.
      if (input.current && memberRow(klass.id, input.current)) {
        return { classId: klass.id, learnerId: input.current, name: memberRow(klass.id, input.current)!.display_name };
      }
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
      store
        .prepare('INSERT INTO class_members (class_id, learner_id, display_name, rejoin_key_hash, joined_at) VALUES (?, ?, ?, ?, ?)')
        .run(klass.id, learnerId, name.value, sha256(rejoinKey).toString('hex'), now());
      await identities.link(learnerId, { kind: 'join-code', issuer: klass.id, subject: `jc_${random(12).toString('base64url')}` });
      return { classId: klass.id, learnerId, name: name.value, ...(token ? { token } : {}), rejoinKey: formatJoinCode(rejoinKey) };
    },

    /** A message to one member (`learnerId`) or the whole class (undefined). */
    message(id: string, learnerId: string | undefined, text: unknown): Notice {
      const klass = must(id);
      const cleaned = cleanMessage(text);
      if (!cleaned.ok) throw new ClassError(cleaned.error, 400);
      if (learnerId !== undefined && !memberRow(id, learnerId)) throw new ClassError('that learner is not in this class: pick one from the dashboard', 404);
      const notice = { id: `msg_${random(12).toString('base64url')}`, classId: id, className: klass.name, toClass: learnerId === undefined, text: cleaned.value, sentAt: now() };
      store.prepare('INSERT INTO class_messages (id, class_id, learner_id, text, sent_at) VALUES (?, ?, ?, ?, ?)').run(notice.id, id, learnerId ?? null, notice.text, notice.sentAt);
      return notice;
    },

    /** Messages for this learner (their classes' and their own) they have not dismissed, oldest first. */
    noticesFor(learnerId: string): Notice[] {
      const rows = store
        .prepare(
          `SELECT m.id, m.class_id, c.name, m.learner_id, m.text, m.sent_at FROM class_messages m
             JOIN classes c ON c.id = m.class_id
             JOIN class_members cm ON cm.class_id = m.class_id AND cm.learner_id = ?
            WHERE (m.learner_id IS NULL OR m.learner_id = ?)
              AND NOT EXISTS (SELECT 1 FROM class_message_dismissals d WHERE d.message_id = m.id AND d.learner_id = ?)
            ORDER BY m.sent_at, m.rowid`,
        )
        .all(learnerId, learnerId, learnerId) as Array<{ id: string; class_id: string; name: string; learner_id: string | null; text: string; sent_at: string }>;
      return rows.map((r) => ({ id: r.id, classId: r.class_id, className: r.name, toClass: r.learner_id === null, text: r.text, sentAt: r.sent_at }));
    },

    dismiss(learnerId: string, messageId: unknown): void {
      if (typeof messageId !== 'string' || !/^msg_[A-Za-z0-9_-]{16}$/.test(messageId)) throw new ClassError('"id" must be a message id from /api/classes/notices', 400);
      if (!service.noticesFor(learnerId).some((n) => n.id === messageId)) return;
      store.prepare('INSERT OR IGNORE INTO class_message_dismissals (message_id, learner_id) VALUES (?, ?)').run(messageId, learnerId);
    },
  };
  return service;
}

export type ClassService = ReturnType<typeof classService>;
