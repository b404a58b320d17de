/**
 * Outgoing webhooks of one conversation. Each enabled webhook is a consumer
 * of the stream (outbox.ts) named `webhook:<id>`: registered when it is
 * created (its cursor starts at the end, so it receives what is appended
 * after) and again whenever the object starts. It takes one entry at a
 * time — only the head is in flight — keeps those its `events` ask for,
 * POSTs each signed (Standard Webhooks, kit/hook-deliveries.ts), and moves
 * on only once the receiver answered 2xx or the delivery was retried for a
 * day and marked `failed`. So a receiver never sees seq 7 before seq 6 was
 * delivered or finally failed; the `webhook-id` of a delivery is the same on
 * every attempt (`msg_<webhook>_<seq>`), for receivers to drop repeats.
 *
 * A webhook whose failures go on past a dead letter (a later delivery still
 * failing a day after they began) is disabled and its creator is told with
 * a `webhook.disabled` notification to their UserDO; nothing is appended to
 * the conversation, whose members need not know.
 *
 * Who manages them: a group's owner or admins; either member of a single chat.
 */
import { uuidv7 } from '../../lib/ids.ts';
import { checkPublicUrl, urlRuleOf } from '../../services/safe-url.ts';
import { payloadOf, typeOf } from '../../services/webhooks/payload.ts';
import { hookTimingOf, type HookTiming, retryDelay, SECRET_OVERLAP_MS } from '../../services/webhooks/policy.ts';
import { newWebhookSecret } from '../../services/webhooks/sign.ts';
import type { Failure, HookEvent, WebhookCreated, WebhookDeliveries, WebhookList, WebhookSecret, WebhookView } from '../contracts.ts';
import { attempt, dropDeliveries, listDeliveries, tellDisabled } from '../kit/hook-deliveries.ts';
import { notMember } from './commands.ts';
import type { Consumer, ConsumerResult, Outbox } from './outbox.ts';
import type { Deps, Entry } from './state.ts';

/** Per conversation: each one is an outbox consumer, and each holds the hot window while it lags. */
export const MAX_WEBHOOKS = 10;
const PREFIX = 'webhook:';

interface WebhookRow {
  id: string;
  url: string;
  /** JSON array of HookEvent. */
  events: string;
  secret: string;
  previous_secret: string | null;
  previous_until: number | null;
  created_by: string;
  created_at: string;
  created_after_seq: number;
  disabled_at: string | null;
  failing_since: number | null;
  [key: string]: SqlStorageValue;
}

const fail = (code: string, message: string): Failure => ({ ok: false, code, message });

export const deliveryId = (webhookId: string, seq: number) => `msg_${webhookId}_${seq}`;

export class Webhooks {
  private readonly d: Deps;
  private readonly outbox: Outbox;
  private readonly timing: HookTiming;

  constructor(d: Deps, outbox: Outbox) {
    this.d = d;
    this.outbox = outbox;
    this.timing = hookTimingOf(d.env);
  }

  /** When the object starts: every enabled webhook is a consumer again. */
  start(): void {
    for (const r of this.sql.exec<WebhookRow>('SELECT * FROM webhooks WHERE disabled_at IS NULL').toArray()) this.outbox.add(this.consumer(r.id, eventsOf(r)));
  }

  add(actorId: string, input: { url: string; events: HookEvent[] }): WebhookCreated {
    const denied = this.denied(actorId);
    if (denied) return denied;
    const problem = checkPublicUrl(input.url, urlRuleOf(this.d.env));
    if (problem) return fail('validation_failed', `url: ${problem}`);
    const count = this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM webhooks').one().n;
    if (count >= MAX_WEBHOOKS) return fail('webhook_limit', `A conversation has at most ${MAX_WEBHOOKS} webhooks; delete one first`);
    const now = Date.now();
    const events = [...new Set(input.events)];
    const row: WebhookRow = {
      id: uuidv7(now), url: input.url, events: JSON.stringify(events), secret: newWebhookSecret(), previous_secret: null, previous_until: null,
      created_by: actorId, created_at: new Date(now).toISOString(), created_after_seq: this.d.st.conv.lastSeq, disabled_at: null, failing_since: null,
    };
    this.sql.exec(
      `INSERT INTO webhooks (id, url, events, secret, created_by, created_at, created_after_seq) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      row.id, row.url, row.events, row.secret, row.created_by, row.created_at, row.created_after_seq,
    );
    // Its cursor starts at lastSeq: no await since reading it, so nothing appended in between is missed or included.
    this.outbox.add(this.consumer(row.id, events));
    return { ok: true, webhook: view(row), secret: row.secret };
  }

  list(actorId: string): WebhookList {
    return this.denied(actorId) ?? { ok: true, items: this.sql.exec<WebhookRow>('SELECT * FROM webhooks ORDER BY id').toArray().map(view) };
  }

  remove(actorId: string, id: string): { ok: true } | Failure {
    const found = this.managed(actorId, id);
    if (!found.ok) return found;
    this.sql.exec('DELETE FROM webhooks WHERE id = ?', id);
    this.outbox.remove(PREFIX + id);
    dropDeliveries(this.sql, id);
    return { ok: true };
  }

  /** A new secret; the one it replaces keeps signing (beside it) for SECRET_OVERLAP_MS. */
  rotate(actorId: string, id: string, now = Date.now()): WebhookSecret {
    const found = this.managed(actorId, id);
    if (!found.ok) return found;
    const secret = newWebhookSecret();
    this.sql.exec('UPDATE webhooks SET secret = ?, previous_secret = ?, previous_until = ? WHERE id = ?', secret, found.row.secret, now + SECRET_OVERLAP_MS, id);
    return { ok: true, secret };
  }

  deliveries(actorId: string, id: string, q: { limit: number; beforeSeq?: number }): WebhookDeliveries {
    const found = this.managed(actorId, id);
    if (!found.ok) return found;
    return { ok: true, ...listDeliveries(this.sql, id, q) };
  }

  private get sql(): SqlStorage {
    return this.d.storage.sql;
  }

  private row(id: string): WebhookRow | undefined {
    return this.sql.exec<WebhookRow>('SELECT * FROM webhooks WHERE id = ?', id).toArray()[0];
  }

  private denied(actorId: string): Failure | undefined {
    const m = this.d.st.member(actorId);
    if (!m) return notMember(this.d.st);
    if (this.d.st.conv.kind === 'group' && m.role === 'member') return fail('forbidden', 'Only the owner or an admin can manage webhooks');
    return undefined;
  }

  private managed(actorId: string, id: string): { ok: true; row: WebhookRow } | Failure {
    const denied = this.denied(actorId);
    if (denied) return denied;
    const row = this.row(id);
    return row ? { ok: true, row } : fail('not_found', 'No such webhook in this conversation');
  }

  private consumer(id: string, events: HookEvent[]): Consumer {
    return {
      name: PREFIX + id,
      batch: 1,
      delayMs: 0,
      backoffMs: (n) => retryDelay(this.timing, n),
      wants: (e) => events.includes(typeOf(e.item)),
      run: (_d, entries) => this.deliver(id, entries[0]!),
    };
  }

  /** One entry to one webhook: ok moves its cursor on (delivered, dead-lettered, or the webhook is gone). */
  private async deliver(id: string, entry: Entry): Promise<ConsumerResult> {
    const row = this.row(id);
    if (!row || row.disabled_at) return { ok: true };
    const now = Date.now();
    const secrets = signingSecrets(row, now);
    const body = JSON.stringify(payloadOf(this.d.st.conv.id!, entry.item));
    const r = await attempt(this.d.env, this.sql, this.timing, { id: deliveryId(id, entry.seq), scope: id, seq: entry.seq, url: row.url, secrets, body, failingSince: row.failing_since }, now);
    if (!this.row(id)) {
      dropDeliveries(this.sql, id); // deleted while the request was out
      return { ok: true };
    }
    if (r.decision === 'delivered') {
      if (row.failing_since !== null) this.sql.exec('UPDATE webhooks SET failing_since = NULL WHERE id = ?', id);
      return { ok: true };
    }
    if (row.failing_since === null) this.sql.exec('UPDATE webhooks SET failing_since = ? WHERE id = ?', now, id);
    if (r.decision === 'retry') return { ok: false, error: r.error };
    if (r.decision === 'disable') this.disable(row, r.error);
    return { ok: true };
  }

  private disable(row: WebhookRow, error: string): void {
    const disabledAt = new Date().toISOString();
    this.sql.exec('UPDATE webhooks SET disabled_at = ? WHERE id = ?', disabledAt, row.id);
    this.outbox.remove(PREFIX + row.id);
    tellDisabled(this.d.env, this.d.ctx, row.created_by, this.timing, error, { conversationId: this.d.st.conv.id!, webhookId: row.id, url: row.url, disabledAt });
  }
}

/** The secrets a delivery is signed with at `now`: the current one, and the one it replaced during the overlap. */
export function signingSecrets(r: Pick<WebhookRow, 'secret' | 'previous_secret' | 'previous_until'>, now: number): string[] {
  return r.previous_secret && (r.previous_until ?? 0) > now ? [r.secret, r.previous_secret] : [r.secret];
}

const eventsOf = (r: WebhookRow) => JSON.parse(r.events) as HookEvent[];

function view(r: WebhookRow): WebhookView {
  return {
    id: r.id,
    url: r.url,
    events: eventsOf(r),
    createdBy: r.created_by,
    createdAt: r.created_at,
    createdAfterSeq: r.created_after_seq,
    ...(r.disabled_at ? { disabledAt: r.disabled_at } : {}),
    ...(r.failing_since !== null ? { failingSince: new Date(r.failing_since).toISOString() } : {}),
  };
}
