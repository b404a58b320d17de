/**
 * Presence changes of one user: recorded in Upstash Redis (see
 * services/presence.ts) and pushed to the user's online friends.
 * Best effort: an unreachable Redis or Postgres is logged, never fatal to a
 * socket.
 */
import { writeLog } from '../../lib/log.ts';
import { eq } from 'drizzle-orm';
import { friendships } from '../../db/schema.ts';
import { markOffline, markOnline, presenceOf } from '../../services/presence.ts';
import { redisClient } from '../../services/redis.ts';
import { type Ctx, withDb } from '../kit/postgres.ts';

/** How often a connected user's presence is renewed; the Redis key lives three times as long. */
export const HEARTBEAT_MS = 30_000;

export async function announcePresence(env: Env, ctx: Ctx, userId: string, online: boolean): Promise<void> {
  const now = new Date();
  const redis = redisClient(env);
  try {
    await (online ? markOnline(redis, userId, now) : markOffline(redis, userId, now));
    const friendIds = await withDb(env, ctx, async (db) =>
      (await db.select({ id: friendships.friendId }).from(friendships).where(eq(friendships.userId, userId))).map((r) => r.id),
    );
    const presence = await presenceOf(redis, friendIds);
    const frame = { type: 'presence', userId, online, lastSeenAt: now.toISOString() } as const;
    await Promise.allSettled(friendIds.filter((id) => presence[id]?.online).map((id) => env.USERS.getByName(id).push(frame)));
  } catch (err) {
    writeLog('warn', 'presence.failed', { userId, online, error: String(err) });
  }
}
