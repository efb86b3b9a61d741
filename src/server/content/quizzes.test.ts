import { mkdtemp, mkdir, writeFile, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validateContent } from './validate.ts';
import { formatProblems } from './friendly-errors.ts';
import { extractHeadings } from './headings.ts';
import { readQuizzes } from './quizzes.ts';
import { quizSchema, type Quiz } from '../../schemas/quiz.ts';

const lesson = (quiz?: string) => `---
code: L1
title: A lesson with a quiz
summary: A summary that is long enough to satisfy the schema's lower bound.
order: 1
estimatedMinutes: 20
level: beginner
objectives:
  - Explain what a good lesson looks like.
  - Write frontmatter that validates.
  - Read error messages that point at the field.
${quiz ? `quiz: ${quiz}\n` : ''}updated: 2026-11-27
---

## Containment first

### 1. Contain

\`\`\`bash
## not a heading
\`\`\`

## Detection signals
`;

const goodQuiz = `title: A small quiz
lesson: l1-lesson
questions:
  - id: first
    type: single
    section: 1-contain
    prompt: What comes first in incident response?
    options:
      - { id: contain, text: Contain }
      - { id: delete, text: Delete }
    correct: contain
    explanation: Containment stops the attacker without destroying evidence.
`;

let root: string;
async function project(files: Record<string, string>) {
  root = await mkdtemp(path.join(tmpdir(), 'irlab-quizzes-'));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), text);
  }
  return root;
}
afterEach(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

const problemsOf = async (quiz: string, lessonQuiz = 'small') => {
  const report = await validateContent(await project({ 'src/content/lessons/l1-lesson.mdx': lesson(lessonQuiz), 'quizzes/small.yaml': quiz }));
  return report.problems;
};

describe('quiz validation', () => {
  it('accepts a well-formed quiz and counts it', async () => {
    const report = await validateContent(await project({ 'src/content/lessons/l1-lesson.mdx': lesson('small'), 'quizzes/small.yaml': goodQuiz }));
    expect(report.problems).toEqual([]);
    expect(report.counts).toEqual({ lessons: 1, scenarios: 0, quizzes: 1, labs: 0, drills: 0 });
  });

  it('rejects a correct option id that does not exist, with file, line, path and fix', async () => {
    const problems = await problemsOf(goodQuiz.replace('correct: contain', 'correct: isolate'));
    expect(problems).toEqual([
      { file: 'quizzes/small.yaml', line: 11, column: 14, path: 'questions[0].correct', message: '"isolate" is not the id of any option', hint: 'use one of "contain", "delete"' },
    ]);
    expect(formatProblems(problems)).toContain('11:14   questions[0].correct: "isolate" is not the id of any option\n          fix: use one of "contain", "delete"');
  });

  it('rejects duplicate question ids and duplicate option ids', async () => {
    const second = goodQuiz.split('questions:\n')[1]!;
    const dup = goodQuiz.replace('      - { id: delete, text: Delete }', '      - { id: contain, text: Delete }') + second;
    const problems = await problemsOf(dup);
    expect(problems.map((p) => `${p.line} ${p.path}: ${p.message}`)).toEqual([
      '10 questions[0].options[1].id: duplicate option id "contain" (also at index 0)',
      '13 questions[1].id: duplicate question id "first" (also at index 0)',
    ]);
  });

  it('reports every problem in the file at once, including type errors and typos', async () => {
    const bad = `title: A small quiz
lesson: l1-lesson
feedback: later
pools: [{ id: extra, draw: 3 }]
questions:
  - id: order
    type: ordering
    section: 1-contain
    prompt: Put these in the right order please.
    items: [{ id: a, text: A }, { id: b, text: B }, { id: a, text: C }]
    explanation: The order is the one in the lesson's playbook.
    pool: extra
  - id: match
    type: matching
    section: detection-signals
    prompt: Match each signal to its field.
    pairs: [{ id: p, text: P, match: nope }, { id: q, text: Q, match: x }]
    choices: [{ id: x, text: X }, { id: y, text: Y }]
    explanation: Each signal is a query on audit fields.
  - id: typed
    type: text
    section: 1-contain
    prompt: Type the quarantine command.
    accept: [kubectl label]
    patterns: ["kubectl (label"]
    explanation: The label command quarantines the pod.
    promt: oops
  - id: weird
    type: essay
    section: 1-contain
    prompt: Write an essay about audit logs.
    explanation: Essays are not a question type yet.
  - id: lost
    type: single
    section: no-such-section
    prompt: Which section is this question from?
    options: [{ id: a, text: A }, { id: b, text: B }]
    correct: a
    explanation: It points at a heading that does not exist.
`;
    const problems = await problemsOf(bad);
    const lines = problems.map((p) => `${p.line} ${p.path}: ${p.message}${p.hint ? ` | ${p.hint}` : ''}`);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^3 feedback: "later" is not allowed \| use one of "immediate" \| "deferred"/),
        expect.stringMatching(/^10 questions\[0\]\.items\[2\]\.id: duplicate item id "a"/),
        expect.stringMatching(/^17 questions\[1\]\.pairs\[0\]\.match: "nope" is not the id of any choice \| use one of "x", "y"/),
        expect.stringMatching(/^25 questions\[2\]\.patterns\[0\]: not a valid regular expression/),
        expect.stringMatching(/^27 questions\[2\]\.promt: unknown field "promt" \| did you mean "prompt"\?/),
        expect.stringMatching(/^29 questions\[3\]\.type: "essay" is not a known type \| use one of "single" \| "multiple" \| "ordering" \| "matching" \| "text" \| "audit-event"/),
        expect.stringMatching(/^4 pools\[0\]\.draw: draws 3 but the pool has 1 question/),
      ]),
    );
    // Section links are checked once the file itself is valid: a separate, later report.
    expect(problems.every((p) => p.file === 'quizzes/small.yaml')).toBe(true);
  });

  it('checks that question sections are headings of the quiz\'s lesson', async () => {
    const problems = await problemsOf(goodQuiz.replace('section: 1-contain', 'section: 1-containment'));
    expect(problems).toEqual([
      expect.objectContaining({ file: 'quizzes/small.yaml', line: 6, path: 'questions[0].section', message: '"1-containment" is not a heading anchor of lesson l1-lesson', hint: 'use one of: containment-first, 1-contain, detection-signals' }),
    ]);
  });

  it('checks the lesson named by the quiz and the quiz named by the lesson', async () => {
    const report = await validateContent(await project({ 'src/content/lessons/l1-lesson.mdx': lesson('missing'), 'quizzes/small.yaml': goodQuiz.replace('lesson: l1-lesson', 'lesson: l1-lessen') }));
    expect(report.problems.map((p) => `${p.file}:${p.line} ${p.path}: ${p.message} | ${p.hint}`)).toEqual([
      'quizzes/small.yaml:2 lesson: no lesson "l1-lessen" in src/content/lessons | did you mean "l1-lesson"?',
      'src/content/lessons/l1-lesson.mdx:12 quiz: no quiz "missing" in quizzes/ | use one of "small" or create quizzes/missing.yaml',
    ]);
  });

  it('rejects an audit event that is not an audit.k8s.io/v1 Event', async () => {
    const quiz = `title: A small quiz
lesson: l1-lesson
questions:
  - id: event
    type: audit-event
    section: detection-signals
    prompt: What does this event show?
    event: { kind: Event, apiVersion: audit.k8s.io/v1beta1, level: Metadata, auditID: x, stage: ResponseComplete, requestURI: /api, verb: get, user: { username: u }, sourceIP: [1.2.3.4], requestReceivedTimestamp: t, stageTimestamp: t }
    options: [{ id: a, text: A }, { id: b, text: B }]
    correct: [a, b]
    explanation: Events come from the audit.k8s.io/v1 API.
`;
    const paths = (await problemsOf(quiz)).map((p) => `${p.path}: ${p.message}`);
    expect(paths).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^questions\[0\]\.event\.apiVersion: /),
        'questions[0].event.sourceIP: unknown field "sourceIP"',
        expect.stringMatching(/^questions\[0\]\.event\.sourceIPs: missing required field/),
        'questions[0].correct: every option is correct, so the question tests nothing',
      ]),
    );
  });
});

describe('headings', () => {
  it('gives the anchors Astro gives, skipping code blocks', () => {
    expect(extractHeadings(lesson()).map((h) => h.slug)).toEqual(['containment-first', '1-contain', 'detection-signals']);
    expect(extractHeadings('## `pods/exec` and *more*\n## Same\n## Same').map((h) => h.slug)).toEqual(['podsexec-and-more', 'same', 'same-1']);
  });
});

describe('the L18 quiz', async () => {
  const { quizzes, problems } = await readQuizzes(process.cwd());
  const l18 = quizzes.find((q) => q.slug === 'l18')!;
  const quiz: Quiz = l18.data;

  it('is valid and linked from the L18 lesson', async () => {
    expect(problems).toEqual([]);
    const frontmatter = (await readFile('src/content/lessons/l18-audit-logging-incident-response.mdx', 'utf8')).split('---')[1]!;
    expect(parse(frontmatter).quiz).toBe('l18');
    expect(quizSchema.safeParse(parse(await readFile('quizzes/l18.yaml', 'utf8'))).success).toBe(true);
  });

  it('asks the seed lesson\'s three questions with the right keys', () => {
    const byId = (id: string) => quiz.questions.find((q) => q.id === id)!;
    const first = byId('first-step');
    expect(first.prompt).toMatch(/first step when responding to a compromised pod/);
    expect(first.type === 'single' && first.options.find((o) => o.id === first.correct)?.text).toMatch(/quarantine=true.*deny-all NetworkPolicy/);
    const rbac = byId('rbac-escalation-signal');
    expect(rbac.prompt).toMatch(/RBAC privilege escalation/);
    expect(rbac.type === 'single' && rbac.options.find((o) => o.id === rbac.correct)?.text).toMatch(/`create` or `patch` on `clusterrolebindings`/);
    const preserve = byId('preserve-before-delete');
    expect(preserve.prompt).toMatch(/preserve pod evidence before deleting/);
    expect(preserve.type === 'single' && preserve.options.find((o) => o.id === preserve.correct)?.text).toMatch(/logs, writable filesystem and live spec.*scope and root cause/);
  });

  it('has at least 15 more questions, every type, and an explanation tied to a section for each', () => {
    expect(quiz.questions.length).toBeGreaterThanOrEqual(18);
    expect(new Set(quiz.questions.map((q) => q.type))).toEqual(new Set(['single', 'multiple', 'ordering', 'matching', 'text', 'audit-event']));
    for (const q of quiz.questions) {
      expect(q.explanation.length).toBeGreaterThan(60);
      expect(q.section).toMatch(/^[a-z0-9-]+$/);
    }
  });

  it('asks about every section of the lesson', async () => {
    const text = await readFile('src/content/lessons/l18-audit-logging-incident-response.mdx', 'utf8');
    const anchors = extractHeadings(text.split(/^---$/m).slice(2).join('---')).map((h) => h.slug);
    const covered = new Set(quiz.questions.map((q) => q.section));
    const skipped = anchors.filter((a) => !covered.has(a));
    // Umbrella headings whose facts live in their subsections, plus the summary.
    expect(skipped.sort()).toEqual(['audit-levels-and-stages', 'key-takeaways', 'writing-an-audit-policy']);
  });

  it('uses realistic audit.k8s.io/v1 events', () => {
    const events = quiz.questions.filter((q) => q.type === 'audit-event');
    expect(events.length).toBeGreaterThanOrEqual(4);
    for (const q of events) {
      expect(q.event.auditID).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(q.event.requestReceivedTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      expect(q.event.annotations?.['authorization.k8s.io/decision']).toMatch(/^(allow|forbid)$/);
    }
  });
});
