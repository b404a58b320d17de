/** `Authorization: Bearer <accessToken>` → `c.var.auth`, or 401. Revoked sessions are refused. */
import { createMiddleware } from 'hono/factory';
import { isSessionRevoked } from '../accounts/sessions.ts';
import { verifyAccessToken } from '../accounts/tokens.ts';
import type { AppEnv } from '../context.ts';
import { ApiError } from '../errors.ts';

export function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer\s+(\S+)$/i);
  return match?.[1];
}

export const requireAuth = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearerToken(c.req.header('authorization'));
  if (!token) throw new ApiError('unauthenticated', 'Missing bearer token');
  const auth = await verifyAccessToken(c.env, token);
  if (await isSessionRevoked(c.env, c.var.pg.db, c.var.log, auth.sessionId)) {
    throw new ApiError('session_revoked', 'This session has been signed out');
  }
  c.set('auth', auth);
  await next();
});
