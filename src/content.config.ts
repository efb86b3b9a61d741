import { defineCollection } from 'astro:content';
import { glob } from 'astro/loaders';
import { lessonSchema } from './schemas/lesson.ts';

/** Lessons: one MDX file each; `src/schemas/lesson.ts` documents the frontmatter. */
const lessons = defineCollection({
  loader: glob({ pattern: '[^_]*.{md,mdx}', base: './src/content/lessons' }),
  schema: lessonSchema,
});

export const collections = { lessons };
