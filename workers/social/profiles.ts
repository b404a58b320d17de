/**
 * Profiles: reads go through a Redis cache-aside (`user:info:{id}`, the row
 * minus its password hash, 1 h), writes go to Postgres and then drop the
 * cached copy. Redis is an accelerator only: when it fails, reads fall back
 * to Postgres and the failure is logged — a profile read never fails on it.
 */
import { z } from '@hono/zod-openapi';
import { and, asc, eq, inArray, or, sql } from 'drizzle-orm';
import { users } from '../../db/schema.ts';
import { type PublicRow, userView, type UserRow, type UserView } from '../accounts/users.ts';
import { errorText, type Logger } from '../../lib/log.ts';
import type { Database } from '../../services/db.ts';
import { redisClient } from '../../services/redis.ts';

/** A user row without its password hash and a bot's secrets: all a profile read may ever touch. */
export type Profile = PublicRow & Pick<UserRow, 'updatedAt'>;

export const PROFILE_COLUMNS = {
  id: users.id,
  username: users.username,
  email: users.email,
  nickname: users.nickname,
  avatarFileId: users.avatarFileId,
  bio: users.bio,
  isBot: users.isBot,
  createdAt: users.createdAt,
  updatedAt: users.updatedAt,
};

/** The API view (email only to its owner). */
export function profileView(p: Profile, viewerId: string): UserView {
  return userView(p, viewerId);
}

const CACHE_TTL_SECONDS = 3600;
const cacheKey = (id: string) => `user:info:${id}`;

/** What the cache holds. Anything else under the key (an older format, garbage) counts as a miss. */
const Cached = z.object({
  id: z.string(),
  username: z.string(),
  email: z.string().nullable(),
  nickname: z.string(),
  avatarFileId: z.string().nullable(),
  bio: z.string().nullable(),
  isBot: z.boolean(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
type Cached = z.infer<typeof Cached>;

const toCache = (p: Profile): Cached => ({ ...p, createdAt: p.createdAt.toISOString(), updatedAt: p.updatedAt.toISOString() });
const fromCache = (c: Cached): Profile => ({ ...c, createdAt: new Date(c.createdAt), updatedAt: new Date(c.updatedAt) });

export interface ProfileDeps {
  env: Env;
  db: Database;
  log: Logger;
}

/** Profiles by id, from the cache where it has them and Postgres for the rest (then cached). Unknown ids are absent. */
export async function getProfiles({ env, db, log }: ProfileDeps, ids: string[]): Promise<Map<string, Profile>> {
  const found = new Map<string, Profile>();
  if (ids.length === 0) return found;
  const redis = redisClient(env);
  let cacheUp = true;
  try {
    const cached = await redis.mget<unknown[]>(...ids.map(cacheKey));
    cached.forEach((value, i) => {
      const parsed = Cached.safeParse(value);
      if (parsed.success && parsed.data.id === ids[i]) found.set(parsed.data.id, fromCache(parsed.data));
    });
  } catch (err) {
    cacheUp = false;
    log.warn('profile_cache.read_failed', { error: errorText(err) });
  }
  const misses = ids.filter((id) => !found.has(id));
  if (misses.length === 0) return found;
  const rows = await db.select(PROFILE_COLUMNS).from(users).where(inArray(users.id, misses));
  for (const row of rows) found.set(row.id, row);
  if (cacheUp && rows.length > 0) {
    try {
      const p = redis.pipeline();
      for (const row of rows) p.set(cacheKey(row.id), toCache(row), { ex: CACHE_TTL_SECONDS });
      await p.exec();
    } catch (err) {
      log.warn('profile_cache.fill_failed', { error: errorText(err) });
    }
  }
  return found;
}

export async function getProfile(deps: ProfileDeps, id: string): Promise<Profile | undefined> {
  return (await getProfiles(deps, [id])).get(id);
}

/**
 * Drops the cached copy after a write. If Redis is down the old copy may be
 * served until its TTL lapses; that is logged, and the write still stands.
 * Any code that changes a users row outside this module must call this.
 */
export async function invalidateProfile({ env, log }: Pick<ProfileDeps, 'env' | 'log'>, id: string): Promise<void> {
  try {
    await redisClient(env).del(cacheKey(id));
  } catch (err) {
    log.warn('profile_cache.invalidate_failed', { userId: id, error: errorText(err) });
  }
}

export interface ProfileChanges {
  nickname?: string;
  avatarFileId?: string | null;
  bio?: string | null;
}

export async function updateProfile(deps: ProfileDeps, id: string, changes: ProfileChanges, now: Date): Promise<Profile | undefined> {
  const [row] = await deps.db
    .update(users)
    .set({ ...changes, ...(changes.bio === '' ? { bio: null } : {}), updatedAt: now })
    .where(eq(users.id, id))
    .returning(PROFILE_COLUMNS);
  await invalidateProfile(deps, id);
  return row;
}

/** `%`, `_` and the escape character itself match literally: a search for "a_b" is not a pattern. */
export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}

export type SearchRow = Profile & { sortKey: string };

/**
 * Users whose username or nickname starts with `q`, any case. Ordered by
 * lowercased username — unique, so the order is total and the cursor (the
 * last row's key) is stable.
 */
export async function searchProfiles(db: Database, q: string, limit: number, after?: string): Promise<SearchRow[]> {
  const prefix = `${escapeLike(q)}%`;
  const sortKey = sql<string>`lower(${users.username})`;
  return db
    .select({ ...PROFILE_COLUMNS, sortKey })
    .from(users)
    .where(
      and(
        or(sql`lower(${users.username}) like lower(${prefix}) escape '\\'`, sql`lower(${users.nickname}) like lower(${prefix}) escape '\\'`),
        after === undefined ? undefined : sql`lower(${users.username}) > ${after}`,
      ),
    )
    .orderBy(asc(sortKey))
    .limit(limit + 1);
}
