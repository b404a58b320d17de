/**
 * Sessions and their refresh tokens. A refresh token is single use: rotation
 * marks it used in the same statement that checks it, so two concurrent
 * refreshes with one token cannot both win; a used token presented again is
 * treated as stolen and revokes the session.
 *
 * Revocation is written to Postgres (the record). Redis caches each
 * session's state under `session:<id>` (`live` or `revoked`), the one read
 * done on every authenticated request; a missing key means "ask Postgres",
 * never "live", so a Redis that restarts empty forgets nothing.
 */
import { and, eq, inArray, isNull, ne, sql } from 'drizzle-orm';
import { refreshTokens, sessions } from '../../db/schema.ts';
import { ApiError } from '../errors.ts';
import { randomToken, sha256Hex, uuidv7 } from '../../lib/ids.ts';
import { errorText, type Logger } from '../../lib/log.ts';
import type { Database, Tx } from '../../services/db.ts';
import { redisClient } from '../../services/redis.ts';
import { accessTtl, signAccessToken } from './tokens.ts';

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

async function issueRefreshToken(db: Database | Tx, env: Env, sessionId: string): Promise<string> {
  const token = randomToken();
  await db.insert(refreshTokens).values({
    tokenHash: await sha256Hex(token),
    sessionId,
    expiresAt: new Date(Date.now() + Number(env.REFRESH_TOKEN_TTL) * 1000),
  });
  return token;
}

/** Opens a session for a user who just proved who they are. */
export async function openSession(db: Database | Tx, env: Env, userId: string, deviceId?: string): Promise<IssuedTokens> {
  const sessionId = uuidv7();
  await db.insert(sessions).values({ id: sessionId, userId, deviceId });
  const refreshToken = await issueRefreshToken(db, env, sessionId);
  return { accessToken: await signAccessToken(env, userId, sessionId), refreshToken, expiresIn: accessTtl(env) };
}

export async function rotate(db: Database, env: Env, log: Logger, refreshToken: string): Promise<IssuedTokens> {
  const tokenHash = await sha256Hex(refreshToken);
  const [claimed] = await db
    .update(refreshTokens)
    .set({ usedAt: sql`now()` })
    .where(and(eq(refreshTokens.tokenHash, tokenHash), isNull(refreshTokens.usedAt)))
    .returning({ sessionId: refreshTokens.sessionId, expiresAt: refreshTokens.expiresAt });
  if (!claimed) {
    const [reused] = await db.select({ sessionId: refreshTokens.sessionId }).from(refreshTokens).where(eq(refreshTokens.tokenHash, tokenHash));
    if (reused) {
      log('auth.refresh_reuse', { sessionId: reused.sessionId });
      await revokeSessions(db, env, [reused.sessionId]);
      throw new ApiError('session_revoked', 'Refresh token reuse detected; the session is revoked');
    }
    throw new ApiError('unauthenticated', 'Unknown refresh token');
  }
  if (claimed.expiresAt.getTime() < Date.now()) throw new ApiError('unauthenticated', 'Refresh token expired');
  const [session] = await db.select().from(sessions).where(eq(sessions.id, claimed.sessionId));
  if (!session || session.revokedAt) throw new ApiError('session_revoked', 'Session revoked');
  const next = await issueRefreshToken(db, env, session.id);
  return { accessToken: await signAccessToken(env, session.userId, session.id), refreshToken: next, expiresIn: accessTtl(env) };
}

/** Marks sessions revoked in Postgres and Redis, and closes their sockets. */
export async function revokeSessions(db: Database, env: Env, sessionIds: string[]): Promise<void> {
  if (sessionIds.length === 0) return;
  const revoked = await db
    .update(sessions)
    .set({ revokedAt: sql`now()` })
    .where(and(inArray(sessions.id, sessionIds), isNull(sessions.revokedAt)))
    .returning({ id: sessions.id, userId: sessions.userId });
  // Overwrites a cached `live`; kept as long as an access token of the session can be valid.
  const pipe = redisClient(env).pipeline();
  for (const id of sessionIds) pipe.set(sessionKey(id), REVOKED, { ex: accessTtl(env) + 60 });
  await pipe.exec();
  await Promise.all(revoked.map((s) => env.USERS.getByName(s.userId).closeSession(s.id)));
}

/** Every live session of a user except `keep` (a password change keeps the caller's). */
export async function revokeUserSessions(db: Database, env: Env, userId: string, keep?: string): Promise<void> {
  const rows = await db
    .select({ id: sessions.id })
    .from(sessions)
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt), keep ? ne(sessions.id, keep) : undefined));
  await revokeSessions(db, env, rows.map((r) => r.id));
}

const sessionKey = (id: string) => `session:${id}`;
const LIVE = 'live';
const REVOKED = 'revoked';
/**
 * How long a `live` answer from Postgres is trusted. Revocation overwrites it
 * at once; this only bounds how long a revocation whose Redis write was lost
 * could go unseen.
 */
const LIVE_CACHE_SECONDS = 300;

/**
 * Is this session revoked? One Redis GET on the common path. A missing key
 * (never checked, expired, or Redis restarted empty) and a Redis outage both
 * fall back to Postgres, the record; its answer is cached for the next
 * request. `live` is cached with NX, so it can never overwrite a revocation
 * written while Postgres was being asked.
 */
export async function isSessionRevoked(env: Env, db: Database, log: Logger, sessionId: string): Promise<boolean> {
  const redis = redisClient(env);
  let cached: string | null = null;
  try {
    cached = await redis.get<string>(sessionKey(sessionId));
  } catch (err) {
    log.warn('auth.redis_unavailable', { error: errorText(err) });
    return revokedInPostgres(db, sessionId);
  }
  if (cached === LIVE) return false;
  if (cached === REVOKED) return true;
  const revoked = await revokedInPostgres(db, sessionId);
  try {
    await (revoked
      ? redis.set(sessionKey(sessionId), REVOKED, { ex: accessTtl(env) + 60 })
      : redis.set(sessionKey(sessionId), LIVE, { ex: LIVE_CACHE_SECONDS, nx: true }));
  } catch (err) {
    log.warn('auth.redis_unavailable', { error: errorText(err) });
  }
  return revoked;
}

async function revokedInPostgres(db: Database, sessionId: string): Promise<boolean> {
  const [row] = await db.select({ revokedAt: sessions.revokedAt }).from(sessions).where(eq(sessions.id, sessionId));
  return !row || row.revokedAt !== null;
}
