import { z } from 'zod';

/** A MITRE ATT&CK technique that a lesson teaches learners to detect or respond to. */
export const attackTechniqueSchema = z.strictObject({
  /** Technique or sub-technique id as ATT&CK writes it, e.g. `T1552.007`. */
  id: z.string().regex(/^T\d{4}(\.\d{3})?$/, 'an ATT&CK id looks like T1609 or T1552.007'),
  /** The technique's official name, shown next to the id. */
  name: z.string().min(3),
});

/**
 * Frontmatter of a lesson (`src/content/lessons/<slug>.mdx`). The body is MDX; its `##` and
 * `###` headings become the page's table of contents.
 */
export const lessonSchema = z.strictObject({
  /** Short code from the course outline, e.g. `L18`; unique across lessons. */
  code: z.string().regex(/^L\d+$/, 'a lesson code is L followed by digits, e.g. L18'),
  /** Title shown in the lesson list and as the page heading. */
  title: z.string().min(5).max(120),
  /** One or two sentences for the lesson list and the page description. */
  summary: z.string().min(40).max(240),
  /** Position in the lesson list; unique across lessons. */
  order: z.number().int().positive(),
  /** Honest time to read the lesson, in minutes (the lab and quiz are timed separately). */
  estimatedMinutes: z.number().int().min(10).max(240),
  /** Who the lesson is pitched at. */
  level: z.enum(['beginner', 'intermediate', 'advanced']),
  /** What a learner can do afterwards: 3 to 8 sentences, each starting with a verb. */
  objectives: z.array(z.string().min(10)).min(3).max(8),
  /** ATT&CK techniques the lesson covers, listed on the page with links. */
  attack: z.array(attackTechniqueSchema).default([]),
  /** Date of the last substantive revision (YAML date, e.g. 2026-11-27). */
  updated: z.coerce.date(),
  /** Slug of the lab (`labs/<slug>/`) that goes with the lesson, once there is one. */
  lab: z.string().regex(/^[a-z0-9-]+$/).optional(),
  /** Slug of the quiz (`quizzes/<slug>.yaml`) that goes with the lesson, once there is one. */
  quiz: z.string().regex(/^[a-z0-9-]+$/).optional(),
  /** Drafts are validated but left out of the lesson list and the build. */
  draft: z.boolean().default(false),
});

export type Lesson = z.infer<typeof lessonSchema>;
