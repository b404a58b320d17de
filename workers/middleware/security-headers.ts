/**
 * Headers every response carries, errors and WebSocket upgrades included.
 * (Hono's `secureHeaders` writes to the response's own headers, which throws
 * on the immutable ones of a Durable Object's 101 answer; `c.header` copies
 * the response first.)
 * - `nosniff`: a browser never guesses a script or page out of an API answer or a file.
 * - `no-referrer`: signed file URLs and tickets in query strings never leak in a Referer.
 */
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../context.ts';

export const securityHeaders = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Referrer-Policy', 'no-referrer');
});
