/** `Cache-Control: no-store` for responses that carry credentials, so no browser or proxy cache keeps a token. */
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../context.ts';

export const noStore = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  c.header('Cache-Control', 'no-store');
});
