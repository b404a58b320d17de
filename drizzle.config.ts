/**
 * drizzle-kit: `npx drizzle-kit generate` turns changes in db/schema.ts into
 * append-only SQL migrations in db/migrations. They are applied by
 * local/migrate.ts (local stack start, tests, and production via
 * DATABASE_URL), never by `drizzle-kit push`.
 */
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './db/schema.ts',
  out: './db/migrations',
});
