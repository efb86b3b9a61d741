/** `irlab new scenario|lab|quiz <slug>`: scaffold a working example to edit. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { extractHeadings } from '../content/headings.ts';
import { validateLessons } from '../content/lessons.ts';
import { scaffold } from '../content/scaffold.ts';

export async function newCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { scenario: { type: 'string' }, lesson: { type: 'string' } }, allowPositionals: true });
  const [kind, slug] = positionals;
  if ((kind !== 'lab' && kind !== 'scenario' && kind !== 'quiz') || !slug) {
    console.error('usage: irlab new scenario <slug> | irlab new lab <slug> --scenario S [--lesson L] | irlab new quiz <slug> [--lesson L]');
    return 2;
  }
  const root = process.cwd();
  const { lessons } = await validateLessons(root);
  const lesson = lessons.find((l) => l.slug === (values.lesson ?? lessons[0]?.slug));
  const section = lesson ? extractHeadings(await readFile(path.join(root, lesson.file), 'utf8'))[0]?.slug : undefined;
  try {
    const files = await scaffold({
      root,
      kind,
      slug,
      ...(values.scenario ? { scenario: values.scenario } : {}),
      ...(lesson ? { lesson: lesson.slug } : {}),
      ...(section ? { section } : {}),
    });
    for (const file of files) console.log(`created ${file}`);
    console.log(kind === 'lab' ? `next: npx irlab validate && npx irlab test ${slug}` : 'next: npx irlab validate');
    return 0;
  } catch (error) {
    console.error(`irlab new: ${(error as Error).message}`);
    return 1;
  }
}
