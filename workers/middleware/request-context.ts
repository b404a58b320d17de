/**
 * First middleware on every request: a request id (the caller's
 * `X-Request-Id` if sane, else a new one), a JSON logger bound to it,
 * the per-request Postgres handle, and one access-log line at the end.
 */
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../context.ts';
import { uuidv7 } from '../../lib/ids.ts';
import { logger } from '../../lib/log.ts';
import { requestDb } from '../../services/db.ts';

export const requestContext = createMiddleware<AppEnv>(async (c, next) => {
  const incoming = c.req.header('x-request-id');
  const requestId = incoming && /^[\w.-]{1,64}$/.test(incoming) ? incoming : uuidv7();
  const log = logger({ requestId });
  const pg = requestDb(c.env, c.executionCtx);
  c.set('requestId', requestId);
  c.set('log', log);
  c.set('pg', pg);
  const started = Date.now();
  try {
    await next();
  } finally {
    pg.end();
    c.header('X-Request-Id', requestId);
    log('request', {
      method: c.req.method,
      // An incoming webhook's URL is its credential: its secret part stays out of the logs.
      path: c.req.path.replace(/^(\/api\/v1\/hooks\/[^/.]*)\.[^/]*/, '$1.…'),
      status: c.res.status,
      ms: Date.now() - started,
      userId: c.get('auth')?.userId,
    });
  }
});
