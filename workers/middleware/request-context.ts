/**
 * On every request, after the request id (`requestIds`): a JSON logger bound to it,
 * the per-request Postgres handle, and at the end one access-log line and
 * one `http` metric datapoint (lib/metrics.ts).
 */
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { requestId } from 'hono/request-id';
import { matchedRoutes } from 'hono/route';
import type { AppEnv } from '../context.ts';
import { uuidv7 } from '../../lib/ids.ts';
import { logger } from '../../lib/log.ts';
import { metric } from '../../lib/metrics.ts';
import { requestDb } from '../../services/db.ts';

/**
 * Hono's request id: the caller's `X-Request-Id` when it is at most 64 of
 * `[A-Za-z0-9_=-]` (so it is safe to log and echo), else a new UUIDv7;
 * echoed in the `X-Request-Id` response header. Runs before requestContext.
 */
export const requestIds = requestId({ limitLength: 64, generator: () => uuidv7() });

export const requestContext = createMiddleware<AppEnv>(async (c, next) => {
  const requestId = c.var.requestId;
  const log = logger({ requestId });
  const pg = requestDb(c.env, c.executionCtx);
  c.set('log', log);
  c.set('pg', pg);
  const started = Date.now();
  try {
    await next();
  } finally {
    pg.end();
    const ms = Date.now() - started;
    // An incoming webhook's URL is its credential: its secret part stays out of the logs.
    const path = c.req.path.replace(/^(\/api\/v1\/hooks\/[^/.]*)\.[^/]*/, '$1.…');
    log('request', { method: c.req.method, path, status: c.res.status, ms, userId: c.get('auth')?.userId });
    metric(c.env, 'http', { method: c.req.method, route: matchedRoute(c), status: c.res.status, ms });
  }
});

/**
 * The pattern of the route that answered (`/api/v1/users/:id`) — the last
 * handler dispatched, not the last one matching (`/users/me` also matches
 * `/users/:id`) — or `unmatched` when only middleware ran (404s, CORS
 * preflights): a bounded set of values to group by.
 */
function matchedRoute(c: Context<AppEnv>): string {
  const route = matchedRoutes(c)[c.req.routeIndex];
  return route && route.method !== 'ALL' ? route.path : 'unmatched';
}
