/**
 * `irlab dev`: Astro's dev server has no serve.ts in front of it, so this Vite plugin plays the
 * composition root's part there. On the first request it builds the services (no terminals: the
 * dev server has no WebSocket routes) through the SSR environment's module runner, the same one
 * that loads the pages, so pages and services share one copy of every module; then it hands them
 * to every request as Astro's `locals`, as serve.ts does.
 */
import type { IncomingMessage } from 'node:http';
import type { Plugin } from 'vite';
import type { loadConfig } from './config.ts';
import type { buildServices, Locals } from './services.ts';

/** Where Astro's dev server looks for a request's locals (astro/dist/core/constants.js). */
const ASTRO_LOCALS = Symbol.for('astro.locals');

export function devServices(onError: (message: string) => void): Plugin {
  return {
    name: 'irlab:dev-services',
    apply: 'serve',
    configureServer(server) {
      let locals: Promise<Locals> | undefined;
      const build = async (): Promise<Locals> => {
        const environment = server.environments.ssr as unknown as { runner: { import<T>(id: string): Promise<T> } };
        const config = await environment.runner.import<{ loadConfig: typeof loadConfig }>('/src/server/app/config.ts');
        const root = await environment.runner.import<{ buildServices: typeof buildServices }>('/src/server/app/services.ts');
        return { services: await root.buildServices(config.loadConfig(process.env), { terminals: false }) };
      };
      let reported = '';
      server.middlewares.use((req: IncomingMessage, _res, next) => {
        locals ??= build().catch((error: unknown) => {
          locals = undefined; // fixed configuration or code: the next request tries again
          throw error;
        });
        locals.then(
          (value) => {
            Reflect.set(req, ASTRO_LOCALS, value);
            next();
          },
          (error: unknown) => {
            // Lessons need no services: the page still renders; those that do fail, and the
            // reason is printed once (not once per request).
            const message = `the services could not start: ${error instanceof Error ? error.message : String(error)}`;
            if (message !== reported) onError(message);
            reported = message;
            next();
          },
        );
      });
      server.httpServer?.once('close', () => void locals?.then((value) => value.services.close()).catch(() => undefined));
    },
  };
}
