/**
 * Runs the content validator before Astro builds or serves, so a bad field anywhere fails the
 * build with every problem listed (file, line, field, fix), not just the first one Astro meets.
 * Under `astro dev` (`irlab dev`) it also watches the content Astro does not know about (labs/,
 * scenarios/, quizzes/ at the top level): each save is validated, every problem printed, and
 * the browser told to reload.
 */
import type { AstroIntegration } from 'astro';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';
import { validateContent } from './validate.ts';
import { formatProblems } from './friendly-errors.ts';
import { devServices } from '../app/dev-services.ts';

/** Top-level content directories Astro's own dev server does not watch. */
export const WATCHED_CONTENT_DIRS = ['labs', 'scenarios', 'quizzes'] as const;

interface Logger {
  info(message: string): void;
  error(message: string): void;
}

/** Validates everything, prints every problem (or the counts), returns how many problems. */
async function report(root: string, logger: Logger): Promise<number> {
  const result = await validateContent(root);
  if (result.problems.length > 0) {
    logger.error(`content is invalid (${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}):\n${formatProblems(result.problems)}`);
  } else {
    logger.info(`content ok: ${Object.entries(result.counts).map(([k, n]) => `${n} ${k}`).join(', ')}`);
  }
  return result.problems.length;
}

/** The custom HMR event sent after each validation: `{ files, problems }`. */
export const CONTENT_CHECKED_EVENT = 'irlab:content-checked';

/** The content directory a changed file belongs to, if it is one we watch. */
export function watchedDirOf(root: string, file: string): string | undefined {
  const relative = path.relative(root, file);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return undefined;
  const top = relative.split(path.sep)[0];
  return (WATCHED_CONTENT_DIRS as readonly string[]).includes(top ?? '') ? top : undefined;
}

/**
 * Vite plugin for the dev server: validates after each change under the watched directories
 * (saves in a burst are validated once), announces the result on the HMR socket and sends the
 * browser a full reload, whether the content is valid or not, so the page shows what the server
 * now serves. (Vite may already reload on such a save; ours comes after validation.)
 */
export function contentReload(root: string, logger: Logger, debounceMs = 150): Plugin {
  return {
    name: 'irlab:content-reload',
    apply: 'serve',
    configureServer(server) {
      server.watcher.add(WATCHED_CONTENT_DIRS.map((dir) => path.join(root, dir)));
      let timer: NodeJS.Timeout | undefined;
      const changed = new Set<string>();
      server.watcher.on('all', (_event, file) => {
        if (!watchedDirOf(root, file)) return;
        changed.add(path.relative(root, file));
        clearTimeout(timer);
        timer = setTimeout(() => {
          const files = [...changed].sort();
          changed.clear();
          logger.info(`changed: ${files.join(', ')}`);
          void report(root, logger)
            .catch((error: unknown) => {
              logger.error(`validation failed: ${error instanceof Error ? error.message : String(error)}`);
              return -1;
            })
            .then((problems) => {
              server.ws.send({ type: 'custom', event: CONTENT_CHECKED_EVENT, data: { files, problems } });
              server.ws.send({ type: 'full-reload', path: '*' });
            });
        }, debounceMs);
      });
    },
  };
}

export function contentValidation(): AstroIntegration {
  return {
    name: 'irlab:content-validation',
    hooks: {
      'astro:config:setup': async ({ config, logger, command, updateConfig }) => {
        const root = fileURLToPath(config.root);
        if (command === 'dev') {
          // While authoring, a problem is printed, not fatal: the author fixes it and saves.
          await report(root, logger);
          updateConfig({ vite: { plugins: [contentReload(root, logger), devServices((message) => logger.error(message))] } });
          return;
        }
        const result = await validateContent(root);
        if (result.problems.length > 0) {
          throw new Error(`Content is invalid. ${formatProblems(result.problems)}`);
        }
        logger.info(`content ok: ${Object.entries(result.counts).map(([k, n]) => `${n} ${k}`).join(', ')}`);
      },
    },
  };
}
