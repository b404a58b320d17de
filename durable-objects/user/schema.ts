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
