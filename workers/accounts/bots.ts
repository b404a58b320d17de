/**
 * Bots: users (`is_bot`) owned by the user who made them, signing in with a
 * long-lived API token (`bhb_` + 32 random bytes) instead of a password. Only
 * the token's SHA-256 is stored. `requireAuth` looks a `bhb_` bearer up here:
 * Redis caches a hit for a minute; rotating or deleting a token first writes
 * a tombstone for the old hash (which wins over any cached copy, even one
 * written back by a request racing the change), so the old token is refused
 * at once. When Redis is unreachable, Postgres answers.
 */
import { and, eq, inArray } from 'drizzle-orm';
import { users } from '../../db/schema.ts';
import { randomToken, sha256Hex, uuidv7 } from '../../lib/ids.ts';
import type { Logger } from '../../lib/log.ts';
import type { Database } from '../../services/db.ts';
import { redisClient } from '../../services/redis.ts';
import { ApiError } from '../errors.ts';
import type { Queryable } from '../social/pair.ts';
import { uniqueViolation, type UserRow } from './users.ts';

export const BOT_TOKEN_PREFIX = 'bhb_';
const CACHE_TTL_SECONDS = 60;
/** Longer than any cached copy can live. */
const TOMBSTONE_TTL_SECONDS = 2 * CACHE_TTL_SECONDS;
/** Never a valid scrypt hash: nobody signs in as a bot with a password. */
const NO_PASSWORD = '!bot';

const cacheKey = (hash: string) => `bot:token:${hash}`;
const revokedKey = (hash: string) => `bot:revoked:${hash}`;

export const isBotToken = (token: string | undefined): boolean => token?.startsWith(BOT_TOKEN_PREFIX) ?? false;

/** The bot a token names, if it is current. */
export async function botForToken(env: Env, db: Database, log: Logger, token: string): Promise<string | undefined> {
  const hash = await sha256Hex(token);
  const redis = redisClient(env);
  let cacheUp = true;
  try {
    const [id, revoked] = await redis.mget<[string | null, unknown]>(cacheKey(hash), revokedKey(hash));
    if (revoked) return undefined;
    if (id) return id;
  } catch (err) {
    cacheUp = false;
    log('auth.redis_unavailable', { error: String(err) });
  }
  const [row] = await db.select({ id: users.id }).from(users).where(and(eq(users.botTokenHash, hash), eq(users.isBot, true))).limit(1);
  if (!row) return undefined;
  if (cacheUp) await redis.set(cacheKey(hash), row.id, { ex: CACHE_TTL_SECONDS }).catch((err: unknown) => log('auth.bot_cache_failed', { error: String(err) }));
  return row.id;
}

/** Before a token hash stops working. Throws 503 when Redis cannot take the tombstone: then nothing has changed. */
async function retire(env: Env, hash: string | null): Promise<void> {
  if (!hash) return;
  try {
    const p = redisClient(env).pipeline();
    p.set(revokedKey(hash), 1, { ex: TOMBSTONE_TTL_SECONDS });
    p.del(cacheKey(hash));
    await p.exec();
  } catch {
    throw new ApiError('unavailable', 'Could not revoke the token right now; retry');
  }
}

export interface NewBot {
  username: string;
  nickname?: string;
  webhookUrl?: string;
  webhookSecret?: string;
  /** Integration bots of incoming webhooks have no token: they only post through their hook. */
  withToken: boolean;
}

/** Creates a bot owned by `ownerId`; returns its row and, if asked for, its token (shown once). */
export async function createBot(db: Queryable, ownerId: string, b: NewBot): Promise<{ row: UserRow; token?: string }> {
  const token = b.withToken ? BOT_TOKEN_PREFIX + randomToken(32) : undefined;
  try {
    const [row] = await db
      .insert(users)
      .values({
        id: uuidv7(), username: b.username, nickname: b.nickname ?? b.username, passwordHash: NO_PASSWORD, isBot: true, botOwnerId: ownerId,
        botTokenHash: token ? await sha256Hex(token) : null, botWebhookUrl: b.webhookUrl ?? null, botWebhookSecret: b.webhookSecret ?? null,
      })
      .returning();
    return { row: row!, ...(token ? { token } : {}) };
  } catch (err) {
    if (uniqueViolation(err)) throw new ApiError('username_taken', 'That username is taken');
    throw err;
  }
}

/** `ownerId`'s bot `botId`, or 404 — the same answer for someone else's bot as for none at all. */
export async function ownedBot(db: Database, ownerId: string, botId: string): Promise<UserRow> {
  const [row] = await db.select().from(users).where(and(eq(users.id, botId), eq(users.botOwnerId, ownerId), eq(users.isBot, true))).limit(1);
  if (!row) throw new ApiError('not_found', 'No such bot of yours');
  return row;
}

export async function rotateBotToken(db: Database, env: Env, bot: UserRow): Promise<string> {
  const token = BOT_TOKEN_PREFIX + randomToken(32);
  await retire(env, bot.botTokenHash);
  await db.update(users).set({ botTokenHash: await sha256Hex(token), updatedAt: new Date() }).where(eq(users.id, bot.id));
  return token;
}

/**
 * A deleted bot keeps its row (its messages still name it) but no owner, token or webhook: it can never
 * act again, and its owner's DELETE is answered 404 from then on.
 */
export async function retireBot(db: Database, env: Env, bot: UserRow): Promise<void> {
  await retire(env, bot.botTokenHash);
  await db
    .update(users)
    .set({ botTokenHash: null, botOwnerId: null, botWebhookUrl: null, botWebhookSecret: null, updatedAt: new Date() })
    .where(eq(users.id, bot.id));
}

/** Which of `ids` are bots of `ownerId` (whom the owner may add to groups and chat with one to one). */
export async function botsOf(db: Queryable, ownerId: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.botOwnerId, ownerId), eq(users.isBot, true), inArray(users.id, ids)));
  return new Set(rows.map((r) => r.id));
}

/** Undoes `createBot` when what it was made for failed right after (nothing refers to it yet). */
export async function dropNewBot(db: Database, botId: string): Promise<void> {
  await db.delete(users).where(and(eq(users.id, botId), eq(users.isBot, true)));
}
