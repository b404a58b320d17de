/**
 * CORS for `/api/*` with Hono's `cors`, from the origin policy
 * (lib/origins.ts). Named origins get their own origin back with
 * credentials; with `*` listed, other origins get `*` and no credentials
 * (browsers refuse `*` with credentials anyway). A preflight from a refused
 * origin is answered 403 `forbidden`; other requests from it go on without
 * CORS headers, so the browser keeps the answer from the page.
 */
import { cors } from 'hono/cors';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../context.ts';
import { ApiError } from '../errors.ts';
import { originPolicy, originTrust } from '../lib/origins.ts';

const shared = {
  allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
  allowHeaders: ['Authorization', 'Content-Type', 'X-Request-Id', 'Tus-Resumable', 'Upload-Length', 'Upload-Offset', 'Upload-Metadata'],
  exposeHeaders: ['Location', 'Upload-Offset', 'Upload-Length', 'Tus-Resumable', 'Tus-Version', 'Tus-Extension', 'Tus-Max-Size', 'Retry-After', 'X-Request-Id', 'Beehive-File-Id'],
  // Browsers cap this (Chrome at 2 h); 10 min keeps a changed ALLOWED_ORIGINS from lingering long.
  maxAge: 600,
};
const withCredentials = cors({ ...shared, origin: (origin) => origin, credentials: true });
const withoutCredentials = cors({ ...shared, origin: '*' });

export const corsPolicy = createMiddleware<AppEnv>(async (c, next) => {
  const origin = c.req.header('origin');
  if (!origin) return next();
  switch (originTrust(originPolicy(c.env, c.req.url), origin)) {
    case 'credentials':
      return withCredentials(c, next);
    case 'public':
      return withoutCredentials(c, next);
    case 'refused':
      if (c.req.method === 'OPTIONS' && c.req.header('access-control-request-method')) {
        throw new ApiError('forbidden', `Origin ${origin} may not call this API (see ALLOWED_ORIGINS)`);
      }
      return next();
  }
});
