/**
 * Runs the content validator before Astro builds or serves, so a bad field anywhere fails the
 * build with every problem listed (file, line, field, fix), not just the first one Astro meets.
 */
import type { AstroIntegration } from 'astro';
import { fileURLToPath } from 'node:url';
import { validateContent } from './validate.ts';
import { formatProblems } from './friendly-errors.ts';

export function contentValidation(): AstroIntegration {
  return {
    name: 'irlab:content-validation',
    hooks: {
      'astro:config:setup': async ({ config, logger }) => {
        const root = fileURLToPath(config.root);
        const report = await validateContent(root);
        if (report.problems.length > 0) {
          throw new Error(`Content is invalid. ${formatProblems(report.problems)}`);
        }
        logger.info(`content ok: ${Object.entries(report.counts).map(([k, n]) => `${n} ${k}`).join(', ')}`);
      },
    },
  };
}
