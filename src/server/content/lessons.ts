/**
 * Reads and validates every lesson file. Astro's content collection validates with the same
 * schema at build time; this runs first so that all problems in all files are reported at once
 * (Astro stops at the first bad entry).
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { lessonSchema, type Lesson } from '../../schemas/lesson.ts';
import { splitFrontmatter } from './frontmatter.ts';
import {
  parseLocatedYaml,
  problemsFromZod,
  yamlSyntaxProblems,
  locate,
  type ContentProblem,
  type LocatedYaml,
} from './friendly-errors.ts';

export const LESSONS_DIR = 'src/content/lessons';
const LESSON_FILE = /\.mdx?$/;

export interface LoadedLesson {
  /** Slug derived from the file name, used in URLs (`/lessons/<slug>`). */
  slug: string;
  file: string;
  data: Lesson;
}

export async function listLessonFiles(root: string, dir = LESSONS_DIR): Promise<string[]> {
  const absolute = path.resolve(root, dir);
  const entries = await readdir(absolute, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile() && LESSON_FILE.test(entry.name) && !entry.name.startsWith('_'))
    .map((entry) => path.join(dir, entry.name))
    .sort();
}

export async function validateLessons(root: string, files?: string[]) {
  const problems: ContentProblem[] = [];
  const lessons: LoadedLesson[] = [];
  const seen = { code: new Map<string, string>(), order: new Map<number, string>() };
  const located = new Map<string, LocatedYaml>();

  for (const file of files ?? (await listLessonFiles(root))) {
    const text = await readFile(path.resolve(root, file), 'utf8');
    const frontmatter = splitFrontmatter(text);
    if (!frontmatter) {
      problems.push({
        file,
        line: 1,
        column: 1,
        path: '',
        message: 'no frontmatter',
        hint: 'start the file with a "---" line, the lesson fields in YAML, and another "---" line',
      });
      continue;
    }
    const yaml = parseLocatedYaml(frontmatter.yaml, frontmatter.lineOffset);
    located.set(file, yaml);
    const syntax = yamlSyntaxProblems(file, yaml);
    if (syntax.length) {
      problems.push(...syntax);
      continue;
    }
    const result = lessonSchema.safeParse(yaml.doc.toJS() ?? {}, { reportInput: true });
    if (!result.success) {
      problems.push(...problemsFromZod(file, lessonSchema, result.error.issues, yaml));
      continue;
    }
    lessons.push({ slug: path.basename(file).replace(LESSON_FILE, ''), file, data: result.data });
  }

  // Cross-file rules: codes and positions must be unique, or links and ordering become ambiguous.
  for (const lesson of lessons) {
    for (const key of ['code', 'order'] as const) {
      const value = lesson.data[key];
      const index = seen[key] as Map<typeof value, string>;
      const first = index.get(value);
      if (first) {
        problems.push({
          file: lesson.file,
          ...locate(located.get(lesson.file), [key]),
          path: key,
          message: `${JSON.stringify(value)} is already used by ${first}`,
          hint: `give each lesson its own ${key}`,
        });
      } else index.set(value, lesson.file);
    }
  }
  return { lessons, problems };
}
