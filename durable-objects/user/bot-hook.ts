/**
 * A bot's webhook: when the bot has a webhookUrl, what its conversations
 * deliver to this UserDO (deliver(), in seq order per conversation) is also
 * queued in `bot_outbox` and POSTed to that URL, signed like a conversation's
 * webhooks (Standard Webhooks, kit/hook-deliveries.ts), one at a time in the
 * order it arrived — only the head is in flight, so per conversation the bot
 * never sees seq 7 before seq 6 was delivered or finally failed. Failures back
 * off (the UserDO's alarm retries); after a day a delivery is `failed` and the
 * next goes; a hook still failing after that is disabled and the bot's owner
 * gets a `webhook.disabled` notification.
 *
 * The bot's own messages and actions are not sent back to it.
 */
import type { Delivery } from '../contracts.ts';
import type { AlarmClock } from '../kit/alarms.ts';
import { attempt, markFailed, tellDisabled } from '../kit/hook-deliveries.ts';
import { payloadOf } from '../../services/webhooks/payload.ts';
import { hookTimingOf, type HookTiming } from '../../services/webhooks/policy.ts';
import { seqOf } from '../../protocol/events.ts';

/** Entries kept waiting while the receiver is down; past it, new ones are logged as failed instead. */
export const QUEUE_MAX = 10_000;

export interface BotHookConfig {
  url: string;
  secret: string;
  ownerId: string;
}

interface HookRow {
  url: string;
  secret: string;
  owner_id: string | null;
  failing_since: number | null;
  next_at: number | null;
  disabled_at: string | null;
  [key: string]: SqlStorageValue;
}

interface QueuedRow {
  id: number;
  conversation_id: string;
  seq: number;
  body: string;
  [key: string]: SqlStorageValue;
}

export const botDeliveryId = (conversationId: string, seq: number) => `msg_${conversationId}_${seq}`;

export class BotHook {
  private readonly sql: SqlStorage;
  private readonly env: Env;
  private readonly ctx: DurableObjectState;
  private readonly alarms: AlarmClock;
  private readonly me: () => string;
  private readonly timing: HookTiming;
  private running: Promise<void> | null = null;
  /** Whether a hook is set and not disabled (read from storage once, then kept). */
  private enabled: boolean | undefined;

  constructor(ctx: DurableObjectState, env: Env, alarms: AlarmClock, me: () => string) {
    this.sql = ctx.storage.sql;
    this.env = env;
    this.ctx = ctx;
    this.alarms = alarms;
    this.me = me;
    this.timing = hookTimingOf(env);
  }

  /**
   * Sets (or, with null, removes) the bot's webhook. Idempotent: the same URL again keeps its queue and
   * (re-)enables it; a new URL starts afresh — nothing queued for the old one goes to it.
   */
  set(config: BotHookConfig | null): void {
    this.ctx.storage.transactionSync(() => {
      const before = this.hook();
      if (!config || (before && before.url !== config.url)) {
        this.sql.exec('DELETE FROM bot_outbox');
        this.sql.exec('DELETE FROM webhook_deliveries');
      }
      if (!config) return void this.sql.exec('DELETE FROM bot_hook');
      if (before?.url === config.url) {
        this.sql.exec('UPDATE bot_hook SET secret = ?, owner_id = ?, disabled_at = NULL', config.secret, config.ownerId);
      } else {
        this.sql.exec('INSERT OR REPLACE INTO bot_hook (id, url, secret, owner_id) VALUES (1, ?, ?, ?)', config.url, config.secret, config.ownerId);
      }
    });
    this.enabled = config !== null;
    this.kick();
  }

  /** Queues what a conversation delivered (already in seq order, new to this user) and starts the pump. */
  enqueue(conversationId: string, deliveries: Delivery[]): void {
    // Every delivery to every user passes here: for people (no hook) this is one memory read.
    this.enabled ??= Boolean(this.hook() && !this.hook()!.disabled_at);
    if (!this.enabled || deliveries.length === 0) return;
    const me = this.me();
    let queued = this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM bot_outbox').one().n;
    for (const d of deliveries) {
      const own = 'message' in d.item ? d.item.message.senderId === me : d.item.event.actorId === me;
      if (own) continue;
      const seq = seqOf(d.item);
      if (queued >= QUEUE_MAX) {
        markFailed(this.sql, { id: botDeliveryId(conversationId, seq), scope: conversationId, seq }, `not sent: over ${QUEUE_MAX} deliveries were waiting`);
        continue;
      }
      this.sql.exec('INSERT OR IGNORE INTO bot_outbox (conversation_id, seq, body) VALUES (?, ?, ?)', conversationId, seq, JSON.stringify(payloadOf(conversationId, d.item)));
      queued += 1;
    }
    this.kick();
  }

  /** From the alarm: resumes the pump once a retry is due. */
  wake(now = Date.now()): void {
    const hook = this.hook();
    if (hook?.next_at != null && hook.next_at <= now) this.sql.exec('UPDATE bot_hook SET next_at = NULL');
    this.kick();
  }

  private hook(): HookRow | undefined {
    return this.sql.exec<HookRow>('SELECT * FROM bot_hook WHERE id = 1').toArray()[0];
  }

  private kick(): void {
    if (this.running) return;
    const hook = this.hook();
    if (!hook || hook.disabled_at) return;
    if (hook.next_at !== null) return this.alarms.wakeBy(hook.next_at);
    this.running = this.pump().finally(() => (this.running = null));
    this.ctx.waitUntil(this.running);
  }

  private async pump(): Promise<void> {
    for (;;) {
      const hook = this.hook();
      const head = this.sql.exec<QueuedRow>('SELECT * FROM bot_outbox ORDER BY id LIMIT 1').toArray()[0];
      if (!hook || hook.disabled_at || hook.next_at !== null || !head) return;
      const now = Date.now();
      // Should the object go away mid-request, the alarm picks the queue up again.
      this.alarms.wakeBy(now + this.timing.timeoutMs + 1_000);
      const id = botDeliveryId(head.conversation_id, head.seq);
      const r = await attempt(this.env, this.sql, this.timing, { id, scope: head.conversation_id, seq: head.seq, url: hook.url, secrets: [hook.secret], body: head.body, failingSince: hook.failing_since }, now);
      const still = this.hook();
      if (!still || still.url !== hook.url) return; // removed or replaced meanwhile: set() cleared the queue
      if (r.decision === 'delivered') {
        this.sql.exec('DELETE FROM bot_outbox WHERE id = ?', head.id);
        this.sql.exec('UPDATE bot_hook SET failing_since = NULL');
        continue;
      }
      this.sql.exec('UPDATE bot_hook SET failing_since = coalesce(failing_since, ?)', now);
      if (r.decision === 'retry') {
        this.sql.exec('UPDATE bot_hook SET next_at = ?', r.retryAt);
        this.alarms.wakeBy(r.retryAt);
        return;
      }
      this.sql.exec('DELETE FROM bot_outbox WHERE id = ?', head.id);
      if (r.decision === 'disable') return this.disable(hook, r.error);
    }
  }

  private disable(hook: HookRow, error: string): void {
    const disabledAt = new Date().toISOString();
    const waiting = this.sql.exec<QueuedRow>('SELECT * FROM bot_outbox').toArray();
    this.ctx.storage.transactionSync(() => {
      for (const q of waiting) markFailed(this.sql, { id: botDeliveryId(q.conversation_id, q.seq), scope: q.conversation_id, seq: q.seq }, 'not sent: the webhook was disabled');
      this.sql.exec('DELETE FROM bot_outbox');
      this.sql.exec('UPDATE bot_hook SET disabled_at = ?', disabledAt);
    });
    this.enabled = false;
    const botId = this.me();
    if (hook.owner_id) tellDisabled(this.env, this.ctx, hook.owner_id, this.timing, error, { webhookId: botId, botId, url: hook.url, disabledAt });
  }
}
