/**
 * The UserDO's SQLite schema: append-only migrations (fingerprinted in
 * test/unit/migrations.test.ts) and row types.
 *
 * - `convs`: the user's conversation index — the view, how far the stream
 *   was delivered to the devices (`last_seq`), the read cursor, the unread
 *   and mention counters with the seq they are accurate at (`counted_seq`),
 *   the last message in its current state, mute.
 * - `pending_events`: notifications kept until a device syncs.
 * - `live_views`: the live-view sockets each session opened (where to close
 *   them when the session is revoked; `closing` marks a close to retry).
 * - `push_devices`: the user's devices with a push subscription (a copy of
 *   Postgres, read again whenever the subscriptions change).
 * - `pushes`: the push outbox — per conversation, the newest message still to
 *   push, when it is due, and when the last push went (bursts coalesce).
 * - For a bot with a webhookUrl (bot-hook.ts): `bot_hook` (its URL, secret,
 *   owner and failure state), `bot_outbox` (entries still to deliver, in the
 *   order they arrived) and `webhook_deliveries` (the log; `scope` = the
 *   conversation).
 */
export const MIGRATIONS = [
  // 1: the first messaging core (shipped).
  `CREATE TABLE state (id INTEGER PRIMARY KEY CHECK (id = 1), user_id TEXT);
   INSERT INTO state (id) VALUES (1);
   CREATE TABLE convs (conversation_id TEXT PRIMARY KEY, view TEXT, last_seq INTEGER NOT NULL DEFAULT 0,
     last_read_seq INTEGER NOT NULL DEFAULT 0, last_message TEXT, activity_at INTEGER NOT NULL);
   CREATE INDEX convs_activity ON convs (activity_at DESC, conversation_id);
   CREATE TABLE pending_events (id INTEGER PRIMARY KEY AUTOINCREMENT, frame TEXT NOT NULL);`,
  // 2: counters that events cannot skew, mute, live views per session.
  `ALTER TABLE convs RENAME COLUMN last_read_seq TO read_seq;
   ALTER TABLE convs ADD COLUMN unread INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE convs ADD COLUMN mentions INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE convs ADD COLUMN counted_seq INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE convs ADD COLUMN muted INTEGER NOT NULL DEFAULT 0;
   UPDATE convs SET unread = max(0, last_seq - read_seq), counted_seq = last_seq;
   CREATE TABLE live_views (session_id TEXT NOT NULL, conversation_id TEXT NOT NULL, at INTEGER NOT NULL,
     closing INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (session_id, conversation_id)) WITHOUT ROWID;`,
  // 3: offline push; the presence heartbeat's due time (the alarm serves several timers now).
  `ALTER TABLE state ADD COLUMN heartbeat_at INTEGER;
   CREATE TABLE push_devices (device_id TEXT PRIMARY KEY) WITHOUT ROWID;
   CREATE TABLE pushes (conversation_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, due_at INTEGER NOT NULL,
     last_at INTEGER NOT NULL DEFAULT 0, pending INTEGER NOT NULL DEFAULT 1, attempts INTEGER NOT NULL DEFAULT 0);`,
  // 4: a bot's webhook (bot-hook.ts): where to, its queue in order, its delivery log.
  `CREATE TABLE bot_hook (id INTEGER PRIMARY KEY CHECK (id = 1), url TEXT NOT NULL, secret TEXT NOT NULL, owner_id TEXT,
     failing_since INTEGER, next_at INTEGER, disabled_at TEXT);
   CREATE TABLE bot_outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, conversation_id TEXT NOT NULL, seq INTEGER NOT NULL,
     body TEXT NOT NULL, UNIQUE (conversation_id, seq));
   CREATE TABLE webhook_deliveries (id TEXT PRIMARY KEY, scope TEXT NOT NULL, seq INTEGER NOT NULL, status TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0, last_status INTEGER, last_error TEXT, first_at INTEGER NOT NULL,
     delivered_at TEXT, next_at INTEGER);
   CREATE INDEX webhook_deliveries_scope ON webhook_deliveries (scope, seq);`,
] as const;

export interface ConvRow {
  conversation_id: string;
  view: string | null;
  last_seq: number;
  read_seq: number;
  last_message: string | null;
  activity_at: number;
  unread: number;
  mentions: number;
  counted_seq: number;
  muted: number;
  [key: string]: SqlStorageValue;
}
