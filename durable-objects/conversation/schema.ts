/**
 * The ConversationDO's SQLite schema: append-only migrations (never edit a
 * shipped entry — test/unit/migrations.test.ts holds their fingerprints) and
 * the row types the modules read.
 *
 * Tables, after migration 2:
 * - `state`: one row — identity, the mirrored settings and membership version,
 *   the two dense counters (`last_seq` numbers every entry of the stream,
 *   `msg_count` numbers the messages among them), `hot_from` (every seq at or
 *   above it is held here; below it, Postgres has the stream).
 * - `members`: current and recently departed members, their role, the seqs
 *   they joined and left at, and their read cursor (`read_seq`, with
 *   `read_msg_no`, the message number at it, for O(1) unread counts).
 * - `messages`: each message in its current state, with `msg_no`, `version`
 *   (the seq of its last change) and `origin` (the sending device).
 * - `events`: every event of the stream.
 * - `dedupe`: (sender, clientMsgId) → seq, kept beyond the hot window.
 * - `tombstones`, `mentions`, `reactions`: small projections for counters and
 *   idempotent reactions; never pruned with the hot window.
 * - `outbox`: one row per consumer of the stream (Postgres, fan-out, search
 *   indexing, file references, each webhook): how far it has got, retries.
 * - `quarantine`: entries a consumer could not deliver because the sink
 *   refuses them for good (an operator-visible record; the consumer moves on).
 * - `blocks`: blocks between members (for single chats, typing and receipts).
 *
 * After migration 3:
 * - `webhooks`: the conversation's outgoing webhooks (URL, events, current and
 *   previous secret, who made it, the seq it was created after, failure state).
 * - `webhook_deliveries`: one row per delivery (`scope` = the webhook's id),
 *   the newest 1,000 per webhook (durable-objects/kit/hook-deliveries.ts).
 */
import type { Role } from '../contracts.ts';

export const MIGRATIONS = [
  // 1: the first messaging core (shipped).
  `CREATE TABLE state (id INTEGER PRIMARY KEY CHECK (id = 1), conversation_id TEXT, kind TEXT,
     members_version INTEGER NOT NULL DEFAULT 0, last_seq INTEGER NOT NULL DEFAULT 0, flushed_seq INTEGER NOT NULL DEFAULT 0,
     flush_failures INTEGER NOT NULL DEFAULT 0, flush_at INTEGER);
   INSERT INTO state (id) VALUES (1);
   CREATE TABLE members (user_id TEXT PRIMARY KEY, role TEXT NOT NULL, last_read_seq INTEGER NOT NULL DEFAULT 0);
   CREATE TABLE blocks (blocker_id TEXT NOT NULL, blocked_id TEXT NOT NULL, PRIMARY KEY (blocker_id, blocked_id));
   CREATE TABLE messages (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, sender_id TEXT NOT NULL, client_msg_id TEXT NOT NULL,
     type TEXT NOT NULL, content TEXT NOT NULL, file_id TEXT, reply_to_seq INTEGER, mentions TEXT, created_at TEXT NOT NULL);
   CREATE TABLE dedupe (sender_id TEXT NOT NULL, client_msg_id TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL,
     created_at TEXT NOT NULL, PRIMARY KEY (sender_id, client_msg_id));
   CREATE TABLE fanout (seq INTEGER PRIMARY KEY, origin_device TEXT, attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL);`,
  // 2: the stream of messages and events, counters, the typed outbox.
  `ALTER TABLE state ADD COLUMN msg_count INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE state ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
   ALTER TABLE state ADD COLUMN hot_from INTEGER NOT NULL DEFAULT 1;
   ALTER TABLE state ADD COLUMN hot_msg_base INTEGER NOT NULL DEFAULT 0;
   UPDATE state SET msg_count = last_seq, hot_from = coalesce((SELECT min(seq) FROM messages), last_seq + 1);
   UPDATE state SET hot_msg_base = hot_from - 1;
   ALTER TABLE members RENAME COLUMN last_read_seq TO read_seq;
   ALTER TABLE members ADD COLUMN read_msg_no INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE members ADD COLUMN joined_seq INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE members ADD COLUMN left_seq INTEGER;
   UPDATE members SET read_msg_no = read_seq;
   ALTER TABLE messages ADD COLUMN msg_no INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE messages ADD COLUMN mention_all INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE messages ADD COLUMN forwarded_from TEXT;
   ALTER TABLE messages ADD COLUMN edited_at TEXT;
   ALTER TABLE messages ADD COLUMN gone TEXT;
   ALTER TABLE messages ADD COLUMN expires_at INTEGER;
   ALTER TABLE messages ADD COLUMN reactions TEXT;
   ALTER TABLE messages ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE messages ADD COLUMN origin TEXT;
   UPDATE messages SET msg_no = seq, version = seq;
   CREATE INDEX messages_expiry ON messages (expires_at) WHERE expires_at IS NOT NULL AND gone IS NULL;
   CREATE TABLE events (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, actor_id TEXT NOT NULL, body TEXT NOT NULL,
     created_at TEXT NOT NULL, origin TEXT, target TEXT);
   CREATE TABLE tombstones (msg_no INTEGER PRIMARY KEY);
   CREATE TABLE mentions (user_id TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (user_id, seq)) WITHOUT ROWID;
   CREATE TABLE reactions (seq INTEGER NOT NULL, emoji TEXT NOT NULL, user_id TEXT NOT NULL, active INTEGER NOT NULL,
     event_seq INTEGER NOT NULL, at TEXT NOT NULL, PRIMARY KEY (seq, emoji, user_id)) WITHOUT ROWID;
   CREATE TABLE outbox (consumer TEXT PRIMARY KEY, done_seq INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
     next_at INTEGER, last_error TEXT);
   INSERT INTO outbox (consumer, done_seq) SELECT 'pg', flushed_seq FROM state;
   INSERT INTO outbox (consumer, done_seq) SELECT 'fanout', coalesce((SELECT min(seq) - 1 FROM fanout), last_seq) FROM state;
   DROP TABLE fanout;
   CREATE TABLE quarantine (consumer TEXT NOT NULL, seq INTEGER NOT NULL, error TEXT NOT NULL, at INTEGER NOT NULL,
     PRIMARY KEY (consumer, seq));`,
  // 3: outgoing webhooks (webhooks.ts), each an outbox consumer, and their delivery log.
  `CREATE TABLE webhooks (id TEXT PRIMARY KEY, url TEXT NOT NULL, events TEXT NOT NULL, secret TEXT NOT NULL,
     previous_secret TEXT, previous_until INTEGER, created_by TEXT NOT NULL, created_at TEXT NOT NULL,
     created_after_seq INTEGER NOT NULL, disabled_at TEXT, failing_since INTEGER);
   CREATE TABLE webhook_deliveries (id TEXT PRIMARY KEY, scope TEXT NOT NULL, seq INTEGER NOT NULL, status TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0, last_status INTEGER, last_error TEXT, first_at INTEGER NOT NULL,
     delivered_at TEXT, next_at INTEGER);
   CREATE INDEX webhook_deliveries_scope ON webhook_deliveries (scope, seq);`,
] as const;

export interface StateRow {
  conversation_id: string | null;
  kind: 'single' | 'group' | null;
  members_version: number;
  last_seq: number;
  msg_count: number;
  settings: string;
  hot_from: number;
  hot_msg_base: number;
  [key: string]: SqlStorageValue;
}

export interface MemberRow {
  user_id: string;
  role: Role;
  read_seq: number;
  read_msg_no: number;
  joined_seq: number;
  left_seq: number | null;
  [key: string]: SqlStorageValue;
}

export interface MessageRow {
  seq: number;
  id: string;
  sender_id: string;
  client_msg_id: string;
  type: string;
  content: string;
  file_id: string | null;
  reply_to_seq: number | null;
  mentions: string | null;
  created_at: string;
  msg_no: number;
  mention_all: number;
  forwarded_from: string | null;
  edited_at: string | null;
  /** null while live; 'recalled' or 'expired'. */
  gone: string | null;
  expires_at: number | null;
  reactions: string | null;
  version: number;
  origin: string | null;
  [key: string]: SqlStorageValue;
}

export interface EventRow {
  seq: number;
  kind: string;
  actor_id: string;
  /** The event's own fields (targetSeq, content, userIds, …) as JSON. */
  body: string;
  created_at: string;
  origin: string | null;
  /** For recalls and expiries: the message as it was (`TargetInfo` JSON) — whose it was, whom it mentioned, its file. */
  target: string | null;
  [key: string]: SqlStorageValue;
}

/** What a recall or expiry took away, for the consumers that need it (unread counts, file references). */
export interface TargetInfo {
  senderId: string;
  mentions?: string[];
  mentionAll?: boolean;
  fileId?: string;
}
