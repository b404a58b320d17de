/**
 * `npm run db:migrate`: applies db/migrations to DATABASE_URL (Neon in
 * production). NEON_WS_PROXY is only for a Postgres behind a WebSocket
 * bridge, as in the local stack.
 */
import { migrate } from './migrate.ts';

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error('Set DATABASE_URL to the database to migrate.');
  process.exit(1);
}
await migrate({ databaseUrl, wsProxy: process.env.NEON_WS_PROXY || undefined });
console.log('Migrations applied.');
