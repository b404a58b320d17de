/**
 * The Postgres schema (Neon in production, PGlite or any Postgres locally).
 * `drizzle-kit generate` turns changes here into append-only SQL migrations
 * under db/migrations, applied by the local stack on start and by
 * `npm run db:migrate` in production.
 */
import { sql } from 'drizzle-orm';
import { type AnyPgColumn, boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

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
    /** A bot is a user that signs in with an API token (`bhb_…`), never a password; it has an owner. */
    isBot: boolean('is_bot').notNull().default(false),
    /** The user who made the bot; null for people, and for a deleted bot (its row stays: its messages name it). */
    botOwnerId: text('bot_owner_id').references((): AnyPgColumn => users.id, { onDelete: 'set null' }),
    /** SHA-256 (hex) of the bot's current token; null once the bot is deleted. */
    botTokenHash: text('bot_token_hash'),
    /** Where the bot's conversations are delivered (Standard Webhooks, signed with `bot_webhook_secret`). */
    botWebhookUrl: text('bot_webhook_url'),
    botWebhookSecret: text('bot_webhook_secret'),
  },
  (t) => [
    // Uniqueness is case-insensitive; lookups use the same expressions.
    uniqueIndex('users_username_lower_idx').on(sql`lower(${t.username})`),
    uniqueIndex('users_email_lower_idx').on(sql`lower(${t.email})`),
    uniqueIndex('users_bot_token_idx').on(t.botTokenHash),
    index('users_bot_owner_idx').on(t.botOwnerId),
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

/** Friend requests. At most one pending request per direction of a pair (partial unique index). */
export const friendRequests = pgTable(
  'friend_requests',
  {
    id: text('id').primaryKey(),
    fromUserId: text('from_user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    toUserId: text('to_user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    message: text('message'),
    status: text('status', { enum: ['pending', 'accepted', 'rejected', 'expired'] }).notNull().default('pending'),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }).notNull(),
    respondedAt: timestamp('responded_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [
    uniqueIndex('friend_requests_pending_pair_idx').on(t.fromUserId, t.toUserId).where(sql`status = 'pending'`),
    index('friend_requests_to_idx').on(t.toUserId, t.status),
  ],
);

/** A friendship is two rows, one per direction, written together. */
export const friendships = pgTable(
  'friendships',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    friendId: text('friend_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.friendId] })],
);

export const blocks = pgTable(
  'blocks',
  {
    blockerId: text('blocker_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    blockedId: text('blocked_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.blockerId, t.blockedId] })],
);

export const conversations = pgTable(
  'conversations',
  {
    id: text('id').primaryKey(),
    kind: text('kind', { enum: ['single', 'group'] }).notNull(),
    /** For `single`: the two user ids sorted and joined by ':' — makes the pair's conversation unique. */
    pairKey: text('pair_key'),
    name: text('name'),
    avatarFileId: text('avatar_file_id'),
    announcement: text('announcement'),
    /** Disappearing messages: 0 = off, else 30 … 604800 seconds. */
    messageTtlSeconds: integer('message_ttl_seconds').notNull().default(0),
    /** Bumped on every membership or settings change; the ConversationDO ignores mirrors older than what it has. */
    membersVersion: integer('members_version').notNull().default(1),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('conversations_pair_idx').on(t.pairKey)],
);

export const conversationMembers = pgTable(
  'conversation_members',
  {
    conversationId: text('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role', { enum: ['owner', 'admin', 'member'] }).notNull().default('member'),
    joinedAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.conversationId, t.userId] }), index('conversation_members_user_idx').on(t.userId)],
);

/**
 * The durable copy of every conversation's messages, written by the
 * ConversationDO's outbox. `(conversation_id, seq)` is the key and `version`
 * (the seq of the message's last change) orders the writes: a row is only
 * ever replaced by a newer version, so a retried or late flush changes
 * nothing. A recalled or expired message keeps its row with `content` null.
 */
export const messages = pgTable(
  'messages',
  {
    conversationId: text('conversation_id').notNull(),
    seq: integer('seq').notNull(),
    id: text('id').notNull(),
    senderId: text('sender_id').notNull(),
    clientMsgId: text('client_msg_id').notNull(),
    type: text('type').notNull(),
    content: jsonb('content'),
    fileId: text('file_id'),
    replyToSeq: integer('reply_to_seq'),
    mentions: jsonb('mentions').$type<string[]>(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull(),
    /** The message's number among the conversation's messages (events take seqs, not numbers): unread counts. */
    msgNo: integer('msg_no').notNull().default(0),
    mentionAll: boolean('mention_all').notNull().default(false),
    forwardedFrom: jsonb('forwarded_from').$type<{ conversationId: string; seq: number; senderId: string }>(),
    editedAt: timestamp('edited_at', { withTimezone: true, precision: 3 }),
    /** A recalled or expired message keeps its row (the stream stays dense) but no longer lets anyone read its file. */
    recalled: boolean('recalled').notNull().default(false),
    expired: boolean('expired').notNull().default(false),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }),
    reactions: jsonb('reactions').$type<Array<{ emoji: string; count: number; userIds: string[] }>>(),
    version: integer('version').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.conversationId, t.seq] }),
    uniqueIndex('messages_id_idx').on(t.id),
    // "Which messages hold this file?" — the file read rule and the release of references.
    index('messages_file_idx').on(t.fileId, t.conversationId).where(sql`file_id IS NOT NULL`),
  ],
);

/** Every event of every conversation's stream, append-only, keyed like messages. */
export const conversationEvents = pgTable(
  'conversation_events',
  {
    conversationId: text('conversation_id').notNull(),
    seq: integer('seq').notNull(),
    kind: text('kind').notNull(),
    actorId: text('actor_id').notNull(),
    /** The event's own fields (targetSeq, content, userIds, changes, …). */
    body: jsonb('body').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.conversationId, t.seq] })],
);

/**
 * Entries an outbox consumer could not write because the sink refuses them
 * for good (e.g. a value Postgres rejects): recorded for an operator, never
 * with the content, and skipped so the rest of the stream flows.
 */
export const outboxQuarantine = pgTable(
  'outbox_quarantine',
  {
    conversationId: text('conversation_id').notNull(),
    seq: integer('seq').notNull(),
    consumer: text('consumer').notNull(),
    error: text('error').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.conversationId, t.seq, t.consumer] })],
);

/**
 * Where to wake a user's device when it has no open socket: one Web Push
 * subscription (endpoint + RFC 8291 keys) or FCM registration token per
 * (user, device). Registering again from the same device replaces the row
 * under a new id, so a late "gone" report for the old one deletes nothing.
 * An endpoint or token belongs to one user at a time: the browser or phone
 * that registers it last owns it (another account signing in on the device).
 */
export const pushSubscriptions = pgTable(
  'push_subscriptions',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    deviceId: text('device_id').notNull(),
    kind: text('kind', { enum: ['webpush', 'fcm'] }).notNull(),
    /** webpush: the push resource URL and the subscription's keys (base64url). */
    endpoint: text('endpoint'),
    p256dh: text('p256dh'),
    auth: text('auth'),
    /** fcm: the registration token. */
    fcmToken: text('fcm_token'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('push_subscriptions_device_idx').on(t.userId, t.deviceId),
    uniqueIndex('push_subscriptions_endpoint_idx').on(t.endpoint),
    uniqueIndex('push_subscriptions_fcm_token_idx').on(t.fcmToken),
  ],
);

/** Per-user preferences; a user without a row has the defaults. */
export const userSettings = pgTable('user_settings', {
  userId: text('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  /** Whether pushes carry a preview of the message text (or only who wrote in which conversation). */
  pushPreviews: boolean('push_previews').notNull().default(true),
  updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
});

/**
 * Stored bytes, once per SHA-256 (dedupe). `r2Key` is unique per stored copy
 * (`blobs/<upload id>`), never derived from the hash: a blob released while
 * the same bytes are uploaded again gets a new row and a new object, so
 * deleting the old object can never take the new one with it.
 */
export const blobs = pgTable('blobs', {
  sha256: text('sha256').primaryKey(),
  size: integer('size').notNull(),
  r2Key: text('r2_key').notNull().unique(),
  createdAt: createdAt(),
});

/**
 * One upload by one user: its own id, name and owner over a shared blob. A
 * deleted file keeps its row while a live message still holds it (members of
 * that conversation may still read it); the row goes, and then the blob, once
 * nothing refers to it (services/files/release.ts).
 */
export const files = pgTable(
  'files',
  {
    id: text('id').primaryKey(),
    // No cascade: deleting a user must release their files' blobs first.
    ownerId: text('owner_id')
      .notNull()
      .references(() => users.id),
    blobSha256: text('blob_sha256')
      .notNull()
      .references(() => blobs.sha256),
    name: text('name').notNull(),
    contentType: text('content_type').notNull(),
    size: integer('size').notNull(),
    width: integer('width'),
    height: integer('height'),
    createdAt: createdAt(),
    deletedAt: timestamp('deleted_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [index('files_blob_idx').on(t.blobSha256), index('files_owner_idx').on(t.ownerId)],
);

/**
 * "A message with this file is being committed to this conversation": written
 * before the ConversationDO commits a media message, so members can read the
 * file the moment `message.new` reaches them, before the outbox has put the
 * message into `messages`. A grant stops counting once a message of the
 * conversation with the file and `created_at >= granted_at` is in Postgres
 * (from then on that message decides), or after an hour.
 */
export const fileGrants = pgTable(
  'file_grants',
  {
    fileId: text('file_id')
      .notNull()
      .references(() => files.id, { onDelete: 'cascade' }),
    conversationId: text('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    grantedAt: timestamp('granted_at', { withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.fileId, t.conversationId] })],
);

/**
 * R2 objects to delete, written in the transaction that made them garbage
 * (a released blob, a duplicate upload) and removed once R2 confirmed the
 * delete: an R2 failure after commit leaves a row to retry, never a leak.
 */
export const blobGarbage = pgTable('blob_garbage', {
  r2Key: text('r2_key').primaryKey(),
  createdAt: createdAt(),
});

/**
 * Incoming webhooks: a secret URL that posts into a conversation as the
 * hook's own bot user. The URL carries `<id>.<secret>`; only the secret's
 * SHA-256 is kept, so a leaked database holds no working URL.
 */
export const incomingWebhooks = pgTable(
  'incoming_webhooks',
  {
    id: text('id').primaryKey(),
    conversationId: text('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    botId: text('bot_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    secretHash: text('secret_hash').notNull(),
    createdBy: text('created_by')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
  },
  (t) => [index('incoming_webhooks_conversation_idx').on(t.conversationId)],
);
