/**
 * `irlab schema`: JSON Schemas generated from the zod schemas, so editors (VS Code's YAML
 * extension) complete and check authored files. Files reference them with a modeline:
 * `# yaml-language-server: $schema=../../schemas/scenario.schema.json`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { drillSchema } from '../../schemas/drill.ts';
import { labSchema } from '../../schemas/lab.ts';
import { lessonSchema } from '../../schemas/lesson.ts';
import { quizSchema } from '../../schemas/quiz.ts';
import { scenarioSchema } from '../../schemas/scenario.ts';

export const JSON_SCHEMAS: Record<string, z.ZodType> = {
  'lesson-frontmatter': lessonSchema,
  scenario: scenarioSchema,
  lab: labSchema,
  quiz: quizSchema,
  drill: drillSchema,
};

export async function writeJsonSchemas(dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const [name, schema] of Object.entries(JSON_SCHEMAS)) {
    const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
    const file = path.join(dir, `${name}.schema.json`);
    await writeFile(file, `${JSON.stringify({ title: `irlab ${name}`, ...json }, null, 2)}\n`);
    written.push(file);
  }
  return written;
}
