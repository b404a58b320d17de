/**
 * Webhook delivery attempts and their log, shared by the two actors that
 * deliver: the ConversationDO (one hook per registered webhook) and a bot's
 * UserDO (its webhookUrl). Both keep a `webhook_deliveries` table of the same
 * shape — `scope` is the webhook's id or, for a bot, the conversation's —
 * with one row per delivery (its id is the `webhook-id` header, the same for
 * every attempt), trimmed to the newest LOG_KEEP per scope.
 *
 * `attempt` makes one signed POST, decides by the retry policy what follows
 * and records it; its caller owns the order (only the head is in flight) and
 * the hook's own state (failing since, disabled).
 */
import { writeLog } from '../../lib/log.ts';
import type { ServerFrameOf } from '../../protocol/frames.ts';
import type { AfterFailure, HookTiming } from '../../services/webhooks/policy.ts';
import { afterFailure, retryDelay } from '../../services/webhooks/policy.ts';
import { postSigned } from '../../services/webhooks/post.ts';

export const LOG_KEEP = 1000;

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** A delivery as the API lists it. */
export interface DeliveryView {
  id: string;
  seq: number;
  status: DeliveryStatus;
  attempts: number;
  lastStatus?: number;
  lastError?: string;
  deliveredAt?: string;
  nextAttemptAt?: string;
}

interface DeliveryRow {
  id: string;
  scope: string;
  seq: number;
  status: DeliveryStatus;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  first_at: number;
  delivered_at: string | null;
  next_at: number | null;
  [key: string]: SqlStorageValue;
}

export interface Attempt {
  id: string;
  scope: string;
  seq: number;
  url: string;
  secrets: string[];
  body: string;
  /** When the hook's current run of failures began (null: its last attempt succeeded). */
  failingSince: number | null;
}

export type AttemptResult = { decision: 'delivered' } | { decision: AfterFailure; error: string; retryAt: number };

export async function attempt(env: Env, sql: SqlStorage, t: HookTiming, a: Attempt, now = Date.now()): Promise<AttemptResult> {
  const outcome = await postSigned(env, { url: a.url, secrets: a.secrets, id: a.id, body: a.body, timeoutMs: t.timeoutMs }, now);
  const prior = sql.exec<Pick<DeliveryRow, 'first_at' | 'attempts'>>('SELECT first_at, attempts FROM webhook_deliveries WHERE id = ?', a.id).toArray()[0];
  const firstAt = prior?.first_at ?? now;
  const attempts = (prior?.attempts ?? 0) + 1;
  const at = Date.now();
  if (outcome.ok) {
    write(sql, a, { status: 'delivered', attempts, lastStatus: outcome.status, lastError: null, firstAt, deliveredAt: new Date(at).toISOString(), nextAt: null });
    return { decision: 'delivered' };
  }
  const decision = afterFailure(t, { firstAt, failingSince: a.failingSince, now: at });
  const retryAt = at + retryDelay(t, attempts);
  const status: DeliveryStatus = decision === 'retry' ? 'pending' : 'failed';
  write(sql, a, { status, attempts, lastStatus: outcome.status ?? null, lastError: outcome.error, firstAt, deliveredAt: null, nextAt: decision === 'retry' ? retryAt : null });
  return { decision, error: outcome.error, retryAt };
}

function write(
  sql: SqlStorage, a: Attempt,
  r: { status: DeliveryStatus; attempts: number; lastStatus: number | null; lastError: string | null; firstAt: number; deliveredAt: string | null; nextAt: number | null },
): void {
  sql.exec(
    `INSERT INTO webhook_deliveries (id, scope, seq, status, attempts, last_status, last_error, first_at, delivered_at, next_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET status = excluded.status, attempts = excluded.attempts, last_status = excluded.last_status,
       last_error = excluded.last_error, delivered_at = excluded.delivered_at, next_at = excluded.next_at`,
    a.id, a.scope, a.seq, r.status, r.attempts, r.lastStatus, r.lastError, r.firstAt, r.deliveredAt, r.nextAt,
  );
  if (r.attempts === 1) trim(sql, a.scope);
}

/** Records a delivery that failed without an attempt (a queue overflow, a disabled hook's head). */
export function markFailed(sql: SqlStorage, d: { id: string; scope: string; seq: number }, error: string, now = Date.now()): void {
  sql.exec(
    `INSERT INTO webhook_deliveries (id, scope, seq, status, attempts, last_error, first_at) VALUES (?, ?, ?, 'failed', 0, ?, ?)
     ON CONFLICT (id) DO UPDATE SET status = 'failed', last_error = excluded.last_error, next_at = NULL`,
    d.id, d.scope, d.seq, error, now,
  );
  trim(sql, d.scope);
}

function trim(sql: SqlStorage, scope: string): void {
  const edge = sql.exec<{ id: string; seq: number }>('SELECT id, seq FROM webhook_deliveries WHERE scope = ? ORDER BY seq DESC LIMIT 1 OFFSET ?', scope, LOG_KEEP).toArray()[0];
  if (edge) sql.exec('DELETE FROM webhook_deliveries WHERE scope = ? AND seq <= ?', scope, edge.seq);
}

/** The newest deliveries of `scope` first, below `beforeSeq` when given. */
export function listDeliveries(sql: SqlStorage, scope: string, q: { limit: number; beforeSeq?: number }): { items: DeliveryView[]; nextCursor: string | null } {
  const rows = sql
    .exec<DeliveryRow>('SELECT * FROM webhook_deliveries WHERE scope = ? AND seq < ? ORDER BY seq DESC LIMIT ?', scope, q.beforeSeq ?? Number.MAX_SAFE_INTEGER, q.limit + 1)
    .toArray();
  const page = rows.slice(0, q.limit);
  return { items: page.map(view), nextCursor: rows.length > q.limit ? String(page.at(-1)!.seq) : null };
}

export function dropDeliveries(sql: SqlStorage, scope: string): void {
  sql.exec('DELETE FROM webhook_deliveries WHERE scope = ?', scope);
}

function view(r: DeliveryRow): DeliveryView {
  return {
    id: r.id,
    seq: r.seq,
    status: r.status,
    attempts: r.attempts,
    ...(r.last_status !== null ? { lastStatus: r.last_status } : {}),
    ...(r.last_error !== null ? { lastError: r.last_error } : {}),
    ...(r.delivered_at !== null ? { deliveredAt: r.delivered_at } : {}),
    ...(r.next_at !== null ? { nextAttemptAt: new Date(r.next_at).toISOString() } : {}),
  };
}

/**
 * Tells a disabled hook's creator (a bot's owner) with a `webhook.disabled` notification: best effort, in
 * the background; a failure is logged (the hook's state says it anyway).
 */
export function tellDisabled(
  env: Env, ctx: { waitUntil(p: Promise<unknown>): void }, userId: string, t: HookTiming, error: string,
  about: Omit<ServerFrameOf<'webhook.disabled'>, 'type' | 'reason'>,
): void {
  const reason = `Deliveries have failed for over ${Math.round(t.giveUpMs / 60_000)} minutes; last error: ${error}`;
  writeLog('warn', 'webhook.disabled', { ...about, error });
  ctx.waitUntil(
    env.USERS.getByName(userId)
      .notify({ type: 'webhook.disabled', ...about, reason })
      .catch((err: unknown) => writeLog('warn', 'webhook.notify_failed', { webhookId: about.webhookId, error: String(err) })),
  );
}
