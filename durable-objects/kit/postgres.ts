/**
 * Postgres from a Durable Object: a Neon Pool per operation, ended through
 * waitUntil, as Workers require (a pool must not outlive the work that
 * opened it).
 */
import { connect, type Db } from '../../db/client.ts';

export type Ctx = { waitUntil(p: Promise<unknown>): void };

export async function withDb<T>(env: Env, ctx: Ctx, run: (db: Db) => Promise<T>): Promise<T> {
  const { db, pool } = connect({ databaseUrl: env.DATABASE_URL, wsProxy: env.NEON_WS_PROXY || undefined });
  try {
    return await run(db);
  } finally {
    ctx.waitUntil(pool.end().catch(() => {}));
  }
}
