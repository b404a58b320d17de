/**
 * Presence in Upstash Redis. `online:<userId>` exists while a device of the
 * user is connected; it carries a TTL that the UserDO's heartbeat keeps
 * renewing, so a crashed DO or a lost socket lapses into "offline" by
 * itself. `lastseen:<userId>` keeps the time the user was last online.
 */
import type { Redis } from '@upstash/redis/cloudflare';

export const ONLINE_TTL_SECONDS = 90;

export interface Presence {
  online: boolean;
  lastSeenAt: string | null;
}

/** A user never seen online — also what anyone reads who may not see a user's presence. */
export const NEVER_SEEN: Presence = Object.freeze({ online: false, lastSeenAt: null });

/** Presence of up to a few hundred users in one Redis round trip (one MGET). */
export async function presenceOf(redis: Redis, userIds: string[]): Promise<Record<string, Presence>> {
  if (userIds.length === 0) return {};
  const keys = userIds.flatMap((id) => [`online:${id}`, `lastseen:${id}`]);
  const values = await redis.mget<(string | number | null)[]>(...keys);
  const out: Record<string, Presence> = {};
  userIds.forEach((id, i) => {
    const online = values[2 * i] != null;
    const last = values[2 * i + 1];
    out[id] = { online, lastSeenAt: online ? new Date().toISOString() : last != null ? String(last) : null };
  });
  return out;
}

export async function markOnline(redis: Redis, userId: string, now = new Date()): Promise<void> {
  const p = redis.pipeline();
  p.set(`online:${userId}`, 1, { ex: ONLINE_TTL_SECONDS });
  p.set(`lastseen:${userId}`, now.toISOString());
  await p.exec();
}

export async function markOffline(redis: Redis, userId: string, now = new Date()): Promise<void> {
  const p = redis.pipeline();
  p.del(`online:${userId}`);
  p.set(`lastseen:${userId}`, now.toISOString());
  await p.exec();
}
