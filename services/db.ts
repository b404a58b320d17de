/**
 * Postgres for one request: a Neon WebSocket `Pool` opened on first use and
 * ended after the response (`waitUntil`), as Workers require — a pool must
 * not outlive the request that opened it.
 */
import { connect } from '../db/client.ts';

import type { Db as Database } from '../db/client.ts';

export type { Database };

export interface RequestDb {
  readonly db: Database;
  end(): void;
}

export function requestDb(env: Env, ctx: { waitUntil(promise: Promise<unknown>): void }): RequestDb {
  let conn: ReturnType<typeof connect> | undefined;
  return {
    get db() {
      conn ??= connect({ databaseUrl: env.DATABASE_URL, wsProxy: env.NEON_WS_PROXY || undefined });
      return conn.db;
    },
    end() {
      if (conn) ctx.waitUntil(conn.pool.end().catch(() => {}));
      conn = undefined;
    },
  };
}

/** A transaction handle, as drizzle passes it to `db.transaction(tx => …)`. */
export type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];

/**
 * Postgres for one operation outside a request (a Durable Object method, a
 * job): a Neon Pool opened for `run` and ended through waitUntil, as Workers
 * require (a pool must not outlive the work that opened it).
 */
export async function withDb<T>(env: Env, ctx: { waitUntil(p: Promise<unknown>): void }, run: (db: Database) => Promise<T>): Promise<T> {
  const { db, pool } = connect({ databaseUrl: env.DATABASE_URL, wsProxy: env.NEON_WS_PROXY || undefined });
  try {
    return await run(db);
  } finally {
    ctx.waitUntil(pool.end().catch(() => {}));
  }
}
