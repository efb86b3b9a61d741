import { z } from 'zod';

/**
 * A quiz file: `quizzes/<slug>.yaml`. Questions are graded on the server; nothing marked
 * "answer key" below ever reaches a browser before the learner has answered.
 */

const slug = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'use lower-case letters, digits and dashes, e.g. first-step');

/** One choice of a single- or multiple-choice question. */
export const optionSchema = z.strictObject({
  /** Id unique within the question, referenced by `correct`. Never shown to learners. */
  id: slug,
  /** What the learner reads. Inline `code` in backticks is rendered as code. */
  text: z.string().min(1),
  /** Shown after answering when the learner picked this option: why it is right or wrong. */
  feedback: z.string().min(1).optional(),
});

/** Fields every question has, whatever its type. */
const questionBase = {
  /** Id unique within the quiz; stored with attempts, so keep it stable once learners answered. */
  id: slug,
  /** The question as the learner reads it (and as a screen reader announces it). */
  prompt: z.string().min(10),
  /** Why the right answer is right; shown only after the question is graded. */
  explanation: z.string().min(20),
  /** Heading anchor in the quiz's lesson that teaches this, e.g. `1-contain`; the explanation links there. */
  section: slug,
  /** Weight in the total score. */
  points: z.number().positive().max(10).default(1),
  /** Pool the question belongs to; each attempt draws `pools[].draw` questions from a pool. */
  pool: slug.optional(),
};

/** Exactly one option is right. */
export const singleChoiceSchema = z.strictObject({
  ...questionBase,
  type: z.literal('single'),
  /** Two or more options; shown in a per-attempt shuffled order unless `shuffle: false`. */
  options: z.array(optionSchema).min(2).max(8),
  /** Answer key: the id of the right option. */
  correct: slug,
  /** Keep the authored option order (for options such as "none of the above"). */
  shuffle: z.boolean().default(true),
});

/** Several options are right; partial credit for each right pick, minus wrong picks. */
export const multipleChoiceSchema = z.strictObject({
  ...questionBase,
  type: z.literal('multiple'),
  options: z.array(optionSchema).min(3).max(10),
  /** Answer key: ids of every right option (at least one). */
  correct: z.array(slug).min(1),
  shuffle: z.boolean().default(true),
});

/** Put the items in order; authored in the right order, shown shuffled. */
export const orderingSchema = z.strictObject({
  ...questionBase,
  type: z.literal('ordering'),
  /** Answer key: the items in their correct order. */
  items: z.array(optionSchema).min(3).max(8),
});

/** One left-hand item of a matching question and its right-hand match. */
export const matchPairSchema = z.strictObject({
  /** Id unique among the question's pairs. */
  id: slug,
  /** The left-hand text, e.g. a detection signal. */
  text: z.string().min(1),
  /** Answer key: id of the choice this item matches. */
  match: slug,
});

/** Match each item to one choice; choices may be used more than once and may include distractors. */
export const matchingSchema = z.strictObject({
  ...questionBase,
  type: z.literal('matching'),
  pairs: z.array(matchPairSchema).min(2).max(8),
  /** The right-hand options, shown shuffled; unused ones act as distractors. */
  choices: z.array(optionSchema).min(2).max(10),
});

/** A typed answer, compared after normalization with accepted answers and patterns. */
export const shortTextSchema = z.strictObject({
  ...questionBase,
  type: z.literal('text'),
  /** Answer key: accepted answers; the first is shown as the model answer after grading. */
  accept: z.array(z.string().min(1)).min(1),
  /** Answer key: extra regular expressions (JavaScript syntax) matched against the whole normalized answer. */
  patterns: z.array(z.string().min(1)).default([]),
  /**
   * `text`: trim, collapse whitespace, straighten quotes, ignore case and a final full stop.
   * `command`: also treat the answer as a shell command: quotes around words, the order of
   * flags, `-n x` / `--namespace=x`, and kubectl resource spellings (`po`, `pods`, `pod/x`) do not matter.
   */
  normalize: z.enum(['text', 'command']).default('text'),
  /** Compare letter case too (default: ignore it). */
  caseSensitive: z.boolean().default(false),
  /** Hint shown inside the empty input, e.g. `kubectl ...`. */
  placeholder: z.string().optional(),
  /** Offer a multi-line text area instead of a one-line input. */
  multiline: z.boolean().default(false),
});

/**
 * A JSON object with some required fields, kept exactly as written (key order included) so that
 * the event a learner reads looks like what the API server writes; zod objects would reorder keys.
 */
function objectWith(fields: Record<string, z.ZodType>) {
  return z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
    for (const [key, schema] of Object.entries(fields)) {
      const result = schema.safeParse(value[key]);
      if (result.success) continue;
      for (const issue of result.error.issues) {
        ctx.addIssue({ ...issue, path: [key, ...issue.path], input: value[key] } as Parameters<typeof ctx.addIssue>[0]);
      }
    }
  });
}

/**
 * The audit.k8s.io/v1 Event fields a question may show. Top level is strict so that a typo
 * (`sourceIP`) is caught, and its fields are declared in the order the API server writes them;
 * nested objects keep every field and its order.
 */
export const auditEventSchema = z.strictObject({
  kind: z.literal('Event'),
  apiVersion: z.literal('audit.k8s.io/v1'),
  level: z.enum(['None', 'Metadata', 'Request', 'RequestResponse']),
  auditID: z.string().min(1),
  stage: z.enum(['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic']),
  requestURI: z.string().startsWith('/'),
  verb: z.string().min(1),
  user: objectWith({ username: z.string().min(1), groups: z.array(z.string()).optional() }),
  impersonatedUser: objectWith({ username: z.string().min(1) }).optional(),
  sourceIPs: z.array(z.string()).min(1),
  userAgent: z.string().optional(),
  objectRef: objectWith({ resource: z.string().optional(), namespace: z.string().optional(), name: z.string().optional() }).optional(),
  responseStatus: objectWith({ code: z.number().int() }).optional(),
  requestObject: z.unknown().optional(),
  responseObject: z.unknown().optional(),
  requestReceivedTimestamp: z.string().min(1),
  stageTimestamp: z.string().min(1),
  annotations: z.record(z.string(), z.string()).optional(),
});

/** "Read this audit event": the event is shown as JSON and the learner picks what it means. */
export const auditEventQuestionSchema = z.strictObject({
  ...questionBase,
  type: z.literal('audit-event'),
  /** The event as the API server writes it (paste the JSON; YAML accepts it as is). */
  event: auditEventSchema,
  options: z.array(optionSchema).min(2).max(8),
  /** Answer key: one option id (single choice) or a list (multiple choice, partial credit). */
  correct: z.union([slug, z.array(slug).min(1)]),
  shuffle: z.boolean().default(true),
});

type Issue = { path: PropertyKey[]; message: string; hint: string };

// The cross-field rules below also run on files with other errors (so that every problem is
// reported at once), so they read the data defensively: anything may be missing or mistyped.
type Loose = Record<string, unknown>;
const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const idOf = (value: unknown): string | undefined => (value && typeof value === 'object' && typeof (value as Loose).id === 'string' ? ((value as Loose).id as string) : undefined);
const idsOf = (value: unknown): Array<string | undefined> => asList(value).map(idOf);

function duplicates(ids: ReadonlyArray<string | undefined>, what: string, at: (index: number) => PropertyKey[]): Issue[] {
  const seen = new Map<string, number>();
  const issues: Issue[] = [];
  ids.forEach((id, index) => {
    if (id === undefined) return;
    const first = seen.get(id);
    if (first === undefined) seen.set(id, index);
    else issues.push({ path: at(index), message: `duplicate ${what} id "${id}" (also at index ${first})`, hint: `give every ${what} its own id` });
  });
  return issues;
}

function unknownRefs(refs: Array<[unknown, PropertyKey[]]>, known: ReadonlyArray<string | undefined>, what: string): Issue[] {
  const names = known.filter((k): k is string => k !== undefined);
  return refs
    .filter((ref): ref is [string, PropertyKey[]] => typeof ref[0] === 'string' && !names.includes(ref[0]))
    .map(([ref, path]) => ({ path, message: `"${ref}" is not the id of any ${what}`, hint: `use one of ${names.map((k) => `"${k}"`).join(', ')}` }));
}

/** Rules that a schema of types cannot express: ids unique, answer keys pointing at real options. */
export function questionReferenceIssues(input: unknown): Issue[] {
  if (!input || typeof input !== 'object') return [];
  const question = input as Loose;
  const issues: Issue[] = [];
  const correct = question.correct;
  const choiceRefs = (): Array<[unknown, PropertyKey[]]> => (Array.isArray(correct) ? correct.map((ref, i) => [ref, ['correct', i]]) : [[correct, ['correct']]]);
  switch (question.type) {
    case 'single':
    case 'multiple':
    case 'audit-event': {
      const ids = idsOf(question.options);
      issues.push(...duplicates(ids, 'option', (i) => ['options', i, 'id']));
      issues.push(...unknownRefs(choiceRefs(), ids, 'option'));
      if (Array.isArray(correct)) issues.push(...duplicates(correct.map((c) => (typeof c === 'string' ? c : undefined)), 'correct option', (i) => ['correct', i]));
      if (question.type !== 'single' && Array.isArray(correct) && ids.length > 0 && correct.length >= ids.length) {
        issues.push({ path: ['correct'], message: 'every option is correct, so the question tests nothing', hint: 'add a wrong option (a distractor)' });
      }
      break;
    }
    case 'ordering':
      issues.push(...duplicates(idsOf(question.items), 'item', (i) => ['items', i, 'id']));
      break;
    case 'matching': {
      const ids = idsOf(question.choices);
      issues.push(...duplicates(idsOf(question.pairs), 'pair', (i) => ['pairs', i, 'id']));
      issues.push(...duplicates(ids, 'choice', (i) => ['choices', i, 'id']));
      issues.push(...unknownRefs(asList(question.pairs).map((p, i) => [p && typeof p === 'object' ? (p as Loose).match : undefined, ['pairs', i, 'match']]), ids, 'choice'));
      break;
    }
    case 'text':
      asList(question.patterns).forEach((pattern, i) => {
        if (typeof pattern !== 'string') return;
        try {
          new RegExp(pattern, 'u');
        } catch (error) {
          issues.push({ path: ['patterns', i], message: `not a valid regular expression: ${(error as Error).message}`, hint: 'escape special characters such as ( ) [ ] . * + ? with a backslash' });
        }
      });
      break;
  }
  return issues;
}

const always = { when: () => true };

export const questionSchema = z
  .discriminatedUnion('type', [singleChoiceSchema, multipleChoiceSchema, orderingSchema, matchingSchema, shortTextSchema, auditEventQuestionSchema])
  .superRefine((question, ctx) => {
    for (const issue of questionReferenceIssues(question)) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message, params: { hint: issue.hint } });
  }, always);

/** A pool of interchangeable questions: each attempt draws `draw` of the questions that name it. */
export const poolSchema = z.strictObject({
  id: slug,
  /** How many of the pool's questions each attempt gets. */
  draw: z.number().int().positive(),
});

export const quizSchema = z
  .strictObject({
    /** Shown as the quiz heading. */
    title: z.string().min(5).max(120),
    /** One or two sentences under the heading. */
    description: z.string().max(400).optional(),
    /** Slug of the lesson this quiz checks (`src/content/lessons/<slug>.mdx`); question `section`s are its headings. */
    lesson: slug,
    /** `immediate`: each question is graded and explained when checked. `deferred`: all at once on submit. */
    feedback: z.enum(['immediate', 'deferred']).default('immediate'),
    /**
     * Submitted attempts allowed per learner; omit for unlimited (the default). It also decides
     * when the answers to questions a learner left unanswered are shown: after a passing attempt,
     * or after the last allowed one. Unlimited therefore means "only after passing". A limit
     * suits sign-in deployments only: with anonymous sessions anyone can reach the last attempt
     * by submitting empty ones and read every answer (docs/grading.md, `## quiz`).
     */
    attempts: z.number().int().positive().optional(),
    /** Percentage of points needed to pass. */
    passPercent: z.number().min(0).max(100).default(70),
    /** Shuffle the question order per attempt too (options are always shuffled unless a question says not). */
    shuffleQuestions: z.boolean().default(false),
    /** Question pools for random draws; questions without `pool` are always asked. */
    pools: z.array(poolSchema).default([]),
    /** The questions, in the order asked (unless `shuffleQuestions`). */
    questions: z.array(questionSchema).min(1),
  })
  .superRefine((input, ctx) => {
    const quiz = input as unknown as Loose;
    const add = (issue: Issue) => ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message, params: { hint: issue.hint } });
    const questions = asList(quiz.questions);
    const pools = asList(quiz.pools);
    duplicates(idsOf(questions), 'question', (i) => ['questions', i, 'id']).forEach(add);
    duplicates(idsOf(pools), 'pool', (i) => ['pools', i, 'id']).forEach(add);
    const poolIds = idsOf(pools).filter((p): p is string => p !== undefined);
    const poolOf = (q: unknown) => (q && typeof q === 'object' && typeof (q as Loose).pool === 'string' ? ((q as Loose).pool as string) : undefined);
    questions.forEach((q, i) => {
      const pool = poolOf(q);
      if (pool && !poolIds.includes(pool)) {
        add({ path: ['questions', i, 'pool'], message: `pool "${pool}" is not declared`, hint: poolIds.length ? `use one of ${poolIds.map((p) => `"${p}"`).join(', ')} or declare it under pools` : `declare it under pools: [{ id: ${pool}, draw: 1 }]` });
      }
    });
    pools.forEach((pool, i) => {
      const draw = pool && typeof pool === 'object' ? (pool as Loose).draw : undefined;
      const id = idOf(pool);
      if (typeof draw !== 'number' || id === undefined) return;
      const size = questions.filter((q) => poolOf(q) === id).length;
      if (draw > size) add({ path: ['pools', i, 'draw'], message: `draws ${draw} but the pool has ${size} question${size === 1 ? '' : 's'}`, hint: `lower draw to at most ${size} or add questions with pool: ${id}` });
    });
  }, always);

export type Quiz = z.infer<typeof quizSchema>;
export type Question = z.infer<typeof singleChoiceSchema> | z.infer<typeof multipleChoiceSchema> | z.infer<typeof orderingSchema> | z.infer<typeof matchingSchema> | z.infer<typeof shortTextSchema> | z.infer<typeof auditEventQuestionSchema>;
export type QuestionOf<T extends Question['type']> = Extract<Question, { type: T }>;
export type AuditEvent = z.infer<typeof auditEventSchema>;
