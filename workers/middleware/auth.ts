/**
 * `Authorization: Bearer <accessToken>` → `c.var.auth`, or 401. Revoked sessions are refused. A bot's
 * token (`bhb_…`) is looked up instead (accounts/bots.ts); rotated and deleted ones are refused at once.
 */
import { createMiddleware } from 'hono/factory';
import { botForToken, isBotToken } from '../accounts/bots.ts';
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
  if (isBotToken(token)) {
    const botId = await botForToken(c.env, c.var.pg.db, c.var.log, token);
    if (!botId) throw new ApiError('unauthenticated', 'Unknown or revoked bot token');
    c.set('auth', { userId: botId, sessionId: `bot:${botId}`, isBot: true });
    return next();
  }
  const auth = await verifyAccessToken(c.env, token);
  if (await isSessionRevoked(c.env, c.var.pg.db, c.var.log, auth.sessionId)) {
    throw new ApiError('session_revoked', 'This session has been signed out');
  }
  c.set('auth', auth);
  await next();
});

/** On /auth/*: a bot has no password, sessions or refresh tokens, so nothing there is for it. */
export const refuseBots = createMiddleware<AppEnv>(async (c, next) => {
  if (isBotToken(bearerToken(c.req.header('authorization')))) throw new ApiError('not_for_bots', 'Bots cannot use /auth: their token is their credential');
  await next();
});
