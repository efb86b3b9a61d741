/**
 * The last line of defence for Astro's endpoints: an exception no endpoint caught becomes a 500
 * with a JSON reason and one log line, instead of Astro's empty 500. Endpoints answer their own
 * errors first (src/server/http/endpoint.ts); this catches what they did not foresee (a stack
 * overflow in a parser, a bug). Pages keep Astro's own error page.
 */
import { defineMiddleware } from 'astro:middleware';
import { errorResponse } from './server/http/endpoint.ts';

export const onRequest = defineMiddleware(async (context, next) => {
  if (!context.url.pathname.startsWith('/api/')) return next();
  try {
    return await next();
  } catch (error) {
    return errorResponse(error, `${context.request.method} ${context.url.pathname}`, 'the server could not handle this request');
  }
});
