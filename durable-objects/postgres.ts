/** Postgres from a Durable Object: one Neon Pool per operation (services/db.ts `withDb`). */
export { withDb } from '../services/db.ts';

export type Ctx = { waitUntil(p: Promise<unknown>): void };
