/**
 * Reads and validates every quiz file (`quizzes/<slug>.yaml`) and the links between quizzes and
 * lessons: a quiz names its lesson, every question's `section` is a heading of that lesson, and a
 * lesson's `quiz:` names an existing quiz. All problems at once, with file, line, path and fix.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { quizSchema, type Quiz } from '../../schemas/quiz.ts';
import { extractHeadings, type Heading } from './headings.ts';
import { splitFrontmatter } from './frontmatter.ts';
import { locate, nearest, parseLocatedYaml, problemsFromZod, yamlSyntaxProblems, type ContentProblem, type LocatedYaml } from './friendly-errors.ts';
import type { LoadedLesson } from './lessons.ts';

export const QUIZZES_DIR = 'quizzes';
const QUIZ_FILE = /\.ya?ml$/;

export interface LoadedQuiz {
  /** From the file name: `quizzes/l18.yaml` is `l18`, served at `/quizzes/l18`. */
  slug: string;
  file: string;
  data: Quiz;
  /** Content hash, stored with attempts so statistics can tell quiz revisions apart. */
  hash: string;
}

/** A lesson's headings, for section links. */
export interface LessonOutline {
  slug: string;
  file: string;
  title: string;
  headings: Heading[];
}

export async function listQuizFiles(root: string, dir = QUIZZES_DIR): Promise<string[]> {
  const entries = await readdir(path.resolve(root, dir), { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && QUIZ_FILE.test(e.name) && !e.name.startsWith('_'))
    .map((e) => path.join(dir, e.name))
    .sort();
}

export async function lessonOutline(root: string, lesson: LoadedLesson): Promise<LessonOutline> {
  const text = await readFile(path.resolve(root, lesson.file), 'utf8');
  const body = text.split(/\r?\n/).slice((splitFrontmatter(text)?.yaml.split('\n').length ?? -2) + 2).join('\n');
  return { slug: lesson.slug, file: lesson.file, title: lesson.data.title, headings: extractHeadings(body) };
}

/** Validates quiz files alone (schema and references inside each file). */
export async function readQuizzes(root: string, files?: string[]) {
  const problems: ContentProblem[] = [];
  const quizzes: Array<LoadedQuiz & { located: LocatedYaml }> = [];
  for (const file of files ?? (await listQuizFiles(root))) {
    const text = await readFile(path.resolve(root, file), 'utf8');
    const located = parseLocatedYaml(text);
    const syntax = yamlSyntaxProblems(file, located);
    if (syntax.length) {
      problems.push(...syntax);
      continue;
    }
    const result = quizSchema.safeParse(located.doc.toJS() ?? {}, { reportInput: true });
    if (!result.success) {
      problems.push(...problemsFromZod(file, quizSchema, result.error.issues, located));
      continue;
    }
    const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
    quizzes.push({ slug: path.basename(file).replace(QUIZ_FILE, ''), file, data: result.data, hash, located });
  }
  return { quizzes, problems };
}

/** Quiz ↔ lesson references, both directions. */
export async function quizReferenceProblems(
  root: string,
  quizzes: ReadonlyArray<LoadedQuiz & { located: LocatedYaml }>,
  lessons: readonly LoadedLesson[],
): Promise<ContentProblem[]> {
  const problems: ContentProblem[] = [];
  const lessonSlugs = lessons.map((l) => l.slug);
  for (const quiz of quizzes) {
    const lesson = lessons.find((l) => l.slug === quiz.data.lesson);
    if (!lesson) {
      const guesses = nearest(quiz.data.lesson, lessonSlugs);
      problems.push({
        file: quiz.file,
        ...locate(quiz.located, ['lesson']),
        path: 'lesson',
        message: `no lesson "${quiz.data.lesson}" in src/content/lessons`,
        hint: guesses.length ? `did you mean ${guesses.map((g) => `"${g}"`).join(' or ')}?` : `use a lesson file name without .mdx: ${lessonSlugs.join(', ')}`,
      });
      continue;
    }
    const anchors = (await lessonOutline(root, lesson)).headings.map((h) => h.slug);
    quiz.data.questions.forEach((question, i) => {
      if (anchors.includes(question.section)) return;
      const guesses = nearest(question.section, anchors);
      problems.push({
        file: quiz.file,
        ...locate(quiz.located, ['questions', i, 'section']),
        path: `questions[${i}].section`,
        message: `"${question.section}" is not a heading anchor of lesson ${lesson.slug}`,
        hint: guesses.length ? `did you mean ${guesses.map((g) => `"${g}"`).join(' or ')}?` : `use one of: ${anchors.join(', ')}`,
      });
    });
  }
  // A quiz file that exists but has errors of its own is reported there, not again here.
  const quizSlugs = (await listQuizFiles(root)).map((file) => path.basename(file).replace(QUIZ_FILE, ''));
  for (const lesson of lessons) {
    const named = lesson.data.quiz;
    if (!named || quizSlugs.includes(named)) continue;
    const text = await readFile(path.resolve(root, lesson.file), 'utf8');
    const frontmatter = splitFrontmatter(text);
    const located = frontmatter ? parseLocatedYaml(frontmatter.yaml, frontmatter.lineOffset) : undefined;
    problems.push({
      file: lesson.file,
      ...locate(located, ['quiz']),
      path: 'quiz',
      message: `no quiz "${named}" in ${QUIZZES_DIR}/`,
      hint: quizSlugs.length ? `use one of ${quizSlugs.map((q) => `"${q}"`).join(', ')} or create ${QUIZZES_DIR}/${named}.yaml` : `create ${QUIZZES_DIR}/${named}.yaml`,
    });
  }
  return problems;
}

/** Every quiz, checked on its own and against the lessons. */
export async function validateQuizzes(root: string, lessons: readonly LoadedLesson[]) {
  const { quizzes, problems } = await readQuizzes(root);
  problems.push(...(await quizReferenceProblems(root, quizzes, lessons)));
  return { quizzes: quizzes.map(({ located: _located, ...quiz }) => quiz as LoadedQuiz), problems, files: new Set([...quizzes.map((q) => q.file), ...problems.map((p) => p.file).filter((f) => f.startsWith(`${QUIZZES_DIR}/`))]) };
}
