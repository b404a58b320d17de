/**
 * Postgres from a Durable Object. A Durable Object is one long-lived actor,
 * so it keeps one Neon `Pool` across its operations instead of opening a
 * connection per flush (a WebSocket, a startup handshake and auth each time):
 * the pool is created on first use and ended after IDLE_MS without a query,
 * or when a query fails in a way that may have broken it. Queries are few
 * and serial (the outbox runs one flush at a time), so the pool holds one
 * connection.
 */
import { connect, type Db } from '../../db/client.ts';

export type Ctx = { waitUntil(p: Promise<unknown>): void };

const IDLE_MS = 10_000;

interface Open {
  db: Db;
  end(): Promise<void>;
}

/** One pool per Durable Object, keyed by its state object (I/O objects must not cross objects). */
const opened = new WeakMap<Ctx, { conn: Open; timer: ReturnType<typeof setTimeout> | undefined; inUse: number }>();

function open(env: Env): Open {
  const { db, pool } = connect({ databaseUrl: env.DATABASE_URL, wsProxy: env.NEON_WS_PROXY || undefined, max: 1 });
  return { db, end: () => pool.end().catch(() => {}) };
}

/** Runs `run` on the pool of the object whose state `ctx` is. */
export async function withDb<T>(env: Env, ctx: Ctx, run: (db: Db) => Promise<T>): Promise<T> {
  let slot = opened.get(ctx);
  if (!slot) opened.set(ctx, (slot = { conn: open(env), timer: undefined, inUse: 0 }));
  clearTimeout(slot.timer);
  slot.inUse++;
  const current = slot;
  try {
    return await run(current.conn.db);
  } catch (err) {
    // A failed connection must not be reused: the next call opens a new one.
    if (opened.get(ctx) === current) opened.delete(ctx);
    ctx.waitUntil(current.conn.end());
    throw err;
  } finally {
    current.inUse--;
    if (current.inUse === 0 && opened.get(ctx) === current) {
      current.timer = setTimeout(() => {
        if (opened.get(ctx) === current && current.inUse === 0) {
          opened.delete(ctx);
          void current.conn.end();
        }
      }, IDLE_MS);
    }
  }
}
