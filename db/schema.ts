/**
 * The Postgres schema (Neon in production, PGlite or any Postgres locally).
 * `drizzle-kit generate` turns changes here into append-only SQL migrations
 * under db/migrations, applied by the local stack on start and by
 * `npm run db:migrate` in production.
 */
import { sql } from 'drizzle-orm';
import { index, integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

const createdAt = () => timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow();

export const users = pgTable(
  'users',
  {
    id: text('id').primaryKey(),
    username: text('username').notNull(),
    email: text('email'),
    nickname: text('nickname').notNull(),
    avatarFileId: text('avatar_file_id'),
    bio: text('bio'),
    /** `scrypt$N$r$p$salt$hash`: the parameters travel with the hash so they can be raised later. */
    passwordHash: text('password_hash').notNull(),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    // Uniqueness is case-insensitive; lookups use the same expressions.
    uniqueIndex('users_username_lower_idx').on(sql`lower(${t.username})`),
    uniqueIndex('users_email_lower_idx').on(sql`lower(${t.email})`),
  ],
);

/** One login on one device. Access tokens carry its id (`sid`); revoking it revokes them. */
export const sessions = pgTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    deviceId: text('device_id'),
    createdAt: createdAt(),
    revokedAt: timestamp('revoked_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [index('sessions_user_idx').on(t.userId)],
);

/**
 * Every refresh token ever issued for a session, by SHA-256 of its value.
 * A token is used once: rotation marks it `usedAt`; presenting a used token
 * again means it leaked, and the whole session is revoked.
 */
export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    sessionId: text('session_id')
      .notNull()
      .references(() => sessions.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [index('refresh_tokens_session_idx').on(t.sessionId)],
);

/** Email verification codes: 6 digits, stored hashed, single use, limited attempts. */
export const emailCodes = pgTable(
  'email_codes',
  {
    id: text('id').primaryKey(),
    email: text('email').notNull(),
    purpose: text('purpose', { enum: ['register', 'reset_password'] }).notNull(),
    codeHash: text('code_hash').notNull(),
    attempts: integer('attempts').notNull().default(0),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }).notNull(),
    consumedAt: timestamp('consumed_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [index('email_codes_lookup_idx').on(sql`lower(${t.email})`, t.purpose, t.createdAt)],
);
