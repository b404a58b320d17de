/**
 * Offline push, decided here: this object knows which of the user's devices
 * have a socket open. A message from someone else, not muted (or mentioning
 * the user), queues a push for the conversation; the push outbox (`pushes`,
 * one row per conversation) is drained by the alarm, which publishes one
 * QStash job per push to `/internal/jobs/push` naming the subscribed devices
 * without an open socket (the job sends through the push services, retried
 * by QStash; a crash here loses nothing, the row stays until published).
 *
 * Bursts coalesce: while a push for a conversation went out less than
 * COALESCE_MS ago, newer messages only move the row's seq forward and wait,
 * so a burst becomes one push naming its newest message (the push services
 * replace an undelivered older one by its Topic as well).
 */
import { writeLog } from '../../lib/log.ts';
import { eq } from 'drizzle-orm';
import { pushSubscriptions } from '../../db/schema.ts';
import { isGone, type Message, mentionsUser } from '../../protocol/messages.ts';
import { qstashClient } from '../../services/qstash.ts';
import { withDb } from '../kit/postgres.ts';

export const COALESCE_MS = 3_000;
const RETRY_MS = 2_000;

/** Does this message call for a push to `me` (before looking at devices)? */
export function wantsPush(m: Message, me: string, muted: boolean): boolean {
  if (m.senderId === me || isGone(m)) return false;
  return !muted || mentionsUser(m, me);
}

/** Queues (or moves forward) the conversation's push; returns when it is due. */
export function queuePush(sql: SqlStorage, conversationId: string, seq: number, now: number): number {
  const row = sql.exec<{ last_at: number }>('SELECT last_at FROM pushes WHERE conversation_id = ?', conversationId).toArray()[0];
  const due = Math.max(now, (row?.last_at ?? 0) + COALESCE_MS);
  sql.exec(
    `INSERT INTO pushes (conversation_id, seq, due_at, pending) VALUES (?, ?, ?, 1)
     ON CONFLICT (conversation_id) DO UPDATE SET seq = max(seq, excluded.seq),
       due_at = CASE WHEN pending = 1 THEN min(due_at, excluded.due_at) ELSE excluded.due_at END, pending = 1`,
    conversationId, seq, due,
  );
  return due;
}

export function hasPushDevices(sql: SqlStorage): boolean {
  return sql.exec<{ n: number }>('SELECT count(*) AS n FROM push_devices').one().n > 0;
}

/** Reads the user's subscribed devices again from Postgres (after a subscription changed). */
export async function refreshPushDevices(env: Env, ctx: DurableObjectState, storage: DurableObjectStorage, userId: string): Promise<string[]> {
  const rows = await withDb(env, ctx, (db) => db.select({ deviceId: pushSubscriptions.deviceId }).from(pushSubscriptions).where(eq(pushSubscriptions.userId, userId)));
  const ids = [...new Set(rows.map((r) => r.deviceId))];
  storage.transactionSync(() => {
    storage.sql.exec('DELETE FROM push_devices');
    for (const id of ids) storage.sql.exec('INSERT INTO push_devices (device_id) VALUES (?)', id);
  });
  return ids;
}

/** The job QStash delivers to /internal/jobs/push. */
export interface PushJob {
  userId: string;
  conversationId: string;
  seq: number;
  deviceIds: string[];
}

/** Publishes every due push; returns when the next one is due (or null). */
export async function sendDuePushes(env: Env, sql: SqlStorage, userId: string, online: Set<string>, now = Date.now()): Promise<number | null> {
  const due = sql.exec<{ conversation_id: string; seq: number }>('SELECT conversation_id, seq FROM pushes WHERE pending = 1 AND due_at <= ?', now).toArray();
  const devices = sql.exec<{ device_id: string }>('SELECT device_id FROM push_devices').toArray().map((r) => r.device_id).filter((d) => !online.has(d));
  for (const p of due) {
    if (devices.length === 0) {
      sql.exec('UPDATE pushes SET pending = 0 WHERE conversation_id = ? AND seq = ?', p.conversation_id, p.seq);
      continue;
    }
    const job: PushJob = { userId, conversationId: p.conversation_id, seq: p.seq, deviceIds: devices };
    try {
      await qstashClient(env).publishJSON({
        url: `${env.PUBLIC_URL}/internal/jobs/push`,
        body: job,
        deduplicationId: `push:${userId}:${p.conversation_id}:${p.seq}`,
        retries: 5,
      });
      // A newer message queued meanwhile keeps the row pending, due after the coalescing pause.
      sql.exec(
        `UPDATE pushes SET last_at = ?, attempts = 0, pending = CASE WHEN seq > ? THEN 1 ELSE 0 END,
           due_at = CASE WHEN seq > ? THEN ? ELSE due_at END WHERE conversation_id = ?`,
        now, p.seq, p.seq, now + COALESCE_MS, p.conversation_id,
      );
    } catch (err) {
      writeLog('warn', 'push.publish_failed', { userId, conversationId: p.conversation_id, error: String(err) });
      sql.exec('UPDATE pushes SET attempts = attempts + 1, due_at = ? WHERE conversation_id = ?', now + RETRY_MS, p.conversation_id);
    }
  }
  return sql.exec<{ t: number | null }>('SELECT min(due_at) AS t FROM pushes WHERE pending = 1').one().t;
}

