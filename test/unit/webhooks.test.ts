/**
 * Webhooks inside workerd: Standard Webhooks signatures (checked with the
 * `standardwebhooks` package, as receivers do), the retry policy, and the
 * ConversationDO's webhooks — who manages them, where their cursor starts,
 * only the head in flight, dead letters moving the cursor on, disabling —
 * without any request leaving the machine (deliveries go to a private
 * address, which the delivery-time URL check refuses before sending).
 */
import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import type { ConversationMirror, Role, WebhookDeliveries, WebhookList } from '../../durable-objects/contracts.ts';
import { signingSecrets } from '../../durable-objects/conversation/webhooks.ts';
import { afterFailure, hookTimingOf, retryDelay, SECRET_OVERLAP_MS } from '../../services/webhooks/policy.ts';
import { postSigned } from '../../services/webhooks/post.ts';
import { newWebhookSecret, signedHeaders } from '../../services/webhooks/sign.ts';

describe('Standard Webhooks signing', () => {
  it('makes whsec_ secrets of 24 random bytes', () => {
    const s = newWebhookSecret();
    expect(s).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(atob(s.slice(6))).toHaveLength(24);
    expect(newWebhookSecret()).not.toBe(s);
  });

  it('signs id.timestamp.body so that standardwebhooks verifies it, with either secret during a rotation', () => {
    const [current, previous, other] = [newWebhookSecret(), newWebhookSecret(), newWebhookSecret()];
    const body = JSON.stringify({ type: 'message.new', conversationId: 'c', seq: 7, message: { content: '你好 🐝' } });
    const headers = signedHeaders([current, previous], 'msg_w_7', body);
    expect(headers['webhook-id']).toBe('msg_w_7');
    expect(Number(headers['webhook-timestamp'])).toBeCloseTo(Date.now() / 1000, -1);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]+ v1,[A-Za-z0-9+/=]+$/);
    expect(new Webhook(current).verify(body, headers)).toMatchObject({ seq: 7 });
    expect(new Webhook(previous).verify(body, headers)).toMatchObject({ seq: 7 });
    expect(() => new Webhook(other).verify(body, headers)).toThrow();
    expect(() => new Webhook(current).verify(body.replace('7', '8'), headers)).toThrow();
    expect(() => new Webhook(current).verify(body, { ...headers, 'webhook-id': 'msg_w_8' })).toThrow();
    // An old timestamp is refused by receivers (replay): each attempt is signed afresh.
    const stale = signedHeaders([current], 'msg_w_7', body, Date.now() - 10 * 60_000);
    expect(() => new Webhook(current).verify(body, stale)).toThrow(/too old/);
  });

  it('signs with the previous secret only during the overlap after a rotation', () => {
    const row = { secret: 'whsec_new', previous_secret: 'whsec_old', previous_until: 1_000 + SECRET_OVERLAP_MS };
    expect(signingSecrets(row, 1_000)).toEqual(['whsec_new', 'whsec_old']);
    expect(signingSecrets(row, 1_000 + SECRET_OVERLAP_MS)).toEqual(['whsec_new']);
    expect(signingSecrets({ ...row, previous_secret: null, previous_until: null }, 0)).toEqual(['whsec_new']);
  });
});

describe('the retry policy', () => {
  const t = hookTimingOf({});
  it('defaults: 1 s doubling up to 1 h, given up after a day, 10 s timeout; env overrides', () => {
    expect(t).toEqual({ retryBaseMs: 1_000, retryCapMs: 3_600_000, giveUpMs: 86_400_000, timeoutMs: 10_000 });
    expect([1, 2, 3, 4, 12, 13, 30].map((n) => retryDelay(t, n))).toEqual([1_000, 2_000, 4_000, 8_000, 2_048_000, 3_600_000, 3_600_000]);
    expect(hookTimingOf({ WEBHOOK_RETRY_BASE_MS: '100', WEBHOOK_GIVE_UP_MS: 'nonsense' })).toMatchObject({ retryBaseMs: 100, giveUpMs: 86_400_000 });
  });

  it('retries within the day, dead-letters after it, disables only when a later delivery fails too', () => {
    const day = t.giveUpMs;
    expect(afterFailure(t, { firstAt: 0, failingSince: 0, now: day - 1 })).toBe('retry');
    expect(afterFailure(t, { firstAt: 0, failingSince: 0, now: day })).toBe('dead');
    expect(afterFailure(t, { firstAt: day, failingSince: 0, now: day + 5 })).toBe('disable');
    // A poison delivery was dead-lettered, then the receiver took the next one: the streak ended, nothing is disabled.
    expect(afterFailure(t, { firstAt: 2 * day, failingSince: 2 * day, now: 2 * day + 5 })).toBe('retry');
  });

  it('never sends to a private or non-https URL at delivery time', async () => {
    for (const url of ['https://10.0.0.1/hook', 'https://169.254.169.254/', 'http://127.0.0.1:9/hook', 'https://[::1]/']) {
      const out = await postSigned({ WEBHOOK_ALLOW_HTTP_LOOPBACK: '' }, { url, secrets: [newWebhookSecret()], id: 'x', body: '{}', timeoutMs: 100 });
      expect(out).toMatchObject({ ok: false, error: expect.stringMatching(/^not sent: the URL must/) });
    }
  });
});

let version = 1000;
async function conversation(id: string, kind: 'group' | 'single', members: Array<[string, Role]>) {
  const stub = env.CONVERSATIONS.getByName(id);
  const mirror: ConversationMirror = { conversationId: id, kind, version: ++version, members: members.map(([userId, role]) => ({ userId, role })), settings: kind === 'group' ? { name: 'g' } : {} };
  await stub.setMirror(mirror);
  return stub;
}
const text = (clientMsgId: string) => ({ clientMsgId, type: 'text' as const, content: 'hi' });
const PUBLIC = 'https://hooks.example.com/in';

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('ConversationDO webhooks: who manages them', () => {
  it('a group’s owner and admins, either member of a single chat; not plain members, not strangers', async () => {
    const group = await conversation('wh-roles', 'group', [['olga', 'owner'], ['adam', 'admin'], ['mia', 'member']]);
    expect(await group.addWebhook('adam', { url: PUBLIC, events: ['message.new'] })).toMatchObject({ ok: true, webhook: { url: PUBLIC, createdBy: 'adam', createdAfterSeq: 0 } });
    expect(await group.addWebhook('mia', { url: PUBLIC, events: ['message.new'] })).toMatchObject({ ok: false, code: 'forbidden' });
    expect(await group.listWebhooks('mia')).toMatchObject({ ok: false, code: 'forbidden' });
    expect(await group.addWebhook('eve', { url: PUBLIC, events: ['message.new'] })).toMatchObject({ ok: false, code: 'not_member' });
    expect(await env.CONVERSATIONS.getByName('wh-none').addWebhook('eve', { url: PUBLIC, events: ['message.new'] })).toMatchObject({ ok: false, code: 'not_found' });
    const single = await conversation('wh-single', 'single', [['sam', 'member'], ['kim', 'member']]);
    expect(await single.addWebhook('kim', { url: PUBLIC, events: ['conversation.event'] })).toMatchObject({ ok: true });
  });

  it('refuses bad URLs and more than 10 per conversation; lists without secrets; rotation keeps the old secret for the overlap', async () => {
    const stub = await conversation('wh-limits', 'group', [['olga', 'owner']]);
    expect(await stub.addWebhook('olga', { url: 'https://192.168.1.1/', events: ['message.new'] })).toMatchObject({ ok: false, code: 'validation_failed' });
    expect(await stub.addWebhook('olga', { url: 'http://hooks.example.com/', events: ['message.new'] })).toMatchObject({ ok: false, code: 'validation_failed' });
    const made = [];
    for (let i = 0; i < 10; i++) made.push(await stub.addWebhook('olga', { url: `${PUBLIC}/${i}`, events: ['message.new'] }));
    expect(await stub.addWebhook('olga', { url: PUBLIC, events: ['message.new'] })).toMatchObject({ ok: false, code: 'webhook_limit' });
    const list = await stub.listWebhooks('olga');
    expect(list.ok && list.items).toHaveLength(10);
    expect(JSON.stringify(list)).not.toContain('whsec_');
    const first = made[0]!;
    if (!first.ok) throw new Error('not created');
    const rotated = await stub.rotateWebhookSecret('olga', first.webhook.id);
    expect(rotated).toMatchObject({ ok: true, secret: expect.stringMatching(/^whsec_/) });
    const row = await runInDurableObject(stub, (_i, state) => state.storage.sql.exec<{ secret: string; previous_secret: string; previous_until: number }>('SELECT * FROM webhooks WHERE id = ?', first.webhook.id).one());
    expect(row.previous_secret).toBe(first.secret);
    expect(rotated.ok && row.secret).toBe(rotated.ok && rotated.secret);
    expect(row.previous_until - Date.now()).toBeGreaterThan(SECRET_OVERLAP_MS - 60_000);
    expect(await stub.deleteWebhook('olga', first.webhook.id)).toEqual({ ok: true });
    expect(await stub.deleteWebhook('olga', first.webhook.id)).toMatchObject({ ok: false, code: 'not_found' });
    expect(await stub.rotateWebhookSecret('olga', first.webhook.id)).toMatchObject({ ok: false, code: 'not_found' });
  });
});

describe('ConversationDO webhooks: order and retries', () => {
  it('starts after the last seq, keeps only the head in flight, dead-letters after the give-up time, disables a hook that keeps failing', async () => {
    const id = 'wh-order';
    const stub = await conversation(id, 'group', [['olga', 'owner'], ['bob', 'member']]);
    await stub.send('bob', [text('before')]);
    const made = await stub.addWebhook('olga', { url: PUBLIC, events: ['message.new', 'conversation.event'] });
    if (!made.ok) throw new Error(made.message);
    const wid = made.webhook.id;
    const name = `webhook:${wid}`;
    expect(made.webhook.createdAfterSeq).toBe(1);
    expect((await stub.outboxStatus()).consumers[name]).toMatchObject({ doneSeq: 1, attempts: 0 });
    // Point it at a private address: every attempt is refused before anything is sent.
    await runInDurableObject(stub, (_i, state) => state.storage.sql.exec("UPDATE webhooks SET url = 'https://10.0.0.1/in' WHERE id = ?", wid));
    await stub.send('bob', [text('two'), text('three'), text('four')]);
    const deliveries = async () => (await stub.webhookDeliveries('olga', wid, { limit: 10 })) as WebhookDeliveries;
    const log = await until(deliveries, (l) => l.ok && l.items.length > 0);
    expect(log.ok && log.items.map((d) => [d.seq, d.status])).toEqual([[2, 'pending']]);
    expect(log.ok && log.items[0]).toMatchObject({ id: `msg_${wid}_2`, attempts: 1, lastError: expect.stringContaining('not sent'), nextAttemptAt: expect.any(String) });
    expect((await stub.outboxStatus()).consumers[name]).toMatchObject({ doneSeq: 1, attempts: 1 });
    // A day later (moved back in storage), seq 2 is dead and seq 3 is the head; the hook is not disabled: its streak is new.
    const dayAgo = Date.now() - 25 * 3600_000;
    await runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec('UPDATE webhook_deliveries SET first_at = ? WHERE seq = 2', dayAgo);
      state.storage.sql.exec('UPDATE outbox SET next_at = 0 WHERE consumer = ?', name);
    });
    await evictDurableObject(stub);
    await runDurableObjectAlarm(stub);
    const after = await until(deliveries, (l) => l.ok && l.items.length > 1);
    expect(after.ok && after.items.map((d) => [d.seq, d.status])).toEqual([[3, 'pending'], [2, 'failed']]);
    expect((await stub.outboxStatus()).consumers[name]).toMatchObject({ doneSeq: 2 });
    // Failing for over a day with a later delivery failing too: disabled, its cursor gone, its creator notified.
    await runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec('UPDATE webhooks SET failing_since = ? WHERE id = ?', dayAgo, wid);
      state.storage.sql.exec('UPDATE outbox SET next_at = 0 WHERE consumer = ?', name);
    });
    await evictDurableObject(stub);
    await runDurableObjectAlarm(stub);
    const listed = await until(async () => (await stub.listWebhooks('olga')) as WebhookList, (l) => l.ok && Boolean(l.items[0]?.disabledAt));
    expect(listed.ok && listed.items[0]).toMatchObject({ id: wid, disabledAt: expect.any(String), failingSince: new Date(dayAgo).toISOString() });
    expect((await stub.outboxStatus()).consumers[name]).toBeUndefined();
    const notes = await until(
      () => runInDurableObject(env.USERS.getByName('olga'), (_i, state) => state.storage.sql.exec<{ frame: string }>('SELECT frame FROM pending_events').toArray().map((r) => JSON.parse(r.frame))),
      (frames) => frames.some((f) => f.type === 'webhook.disabled'),
    );
    expect(notes.find((f) => f.type === 'webhook.disabled')).toMatchObject({ conversationId: id, webhookId: wid, url: 'https://10.0.0.1/in' });
    // A disabled hook is not a consumer after a restart either.
    await evictDurableObject(stub);
    await stub.send('bob', [text('five')]);
    expect((await stub.outboxStatus()).consumers[name]).toBeUndefined();
  });

  it('is a consumer again after a restart; a deleted one leaves no cursor and no log', async () => {
    const stub = await conversation('wh-restart', 'group', [['olga', 'owner']]);
    const made = await stub.addWebhook('olga', { url: PUBLIC, events: ['message.new'] });
    if (!made.ok) throw new Error(made.message);
    const name = `webhook:${made.webhook.id}`;
    await evictDurableObject(stub);
    expect((await stub.outboxStatus()).consumers[name]).toMatchObject({ doneSeq: 0 });
    expect(await stub.deleteWebhook('olga', made.webhook.id)).toEqual({ ok: true });
    const rows = await runInDurableObject(stub, (_i, state) => state.storage.sql.exec('SELECT * FROM outbox WHERE consumer = ?', name).toArray());
    expect(rows).toEqual([]);
    expect((await stub.outboxStatus()).consumers[name]).toBeUndefined();
  });
});

describe('a bot’s webhook in its UserDO', () => {
  const message = (seq: number, senderId: string) => ({
    item: { message: { id: `m${seq}`, conversationId: 'bot-conv', seq, senderId, clientMsgId: `c${seq}`, type: 'text' as const, content: 'hi', createdAt: new Date().toISOString() } },
  });
  const queue = (stub: DurableObjectStub<import('../../durable-objects/user/index.ts').UserDO>) =>
    runInDurableObject(stub, (_i, state) => state.storage.sql.exec<{ seq: number }>('SELECT seq FROM bot_outbox ORDER BY id').toArray().map((r) => r.seq));

  it('queues what others send (not its own), keeps the head in flight, survives a repeated set, starts afresh on a new URL', async () => {
    const bot = env.USERS.getByName('bot-1');
    // A private address: every attempt is refused before anything is sent, so the queue stays.
    await bot.setBotHook({ url: 'https://10.0.0.1/bot', secret: newWebhookSecret(), ownerId: 'owner-1' });
    await bot.deliver('bot-conv', [message(1, 'alice'), message(2, 'bot-1'), message(3, 'bob')]);
    expect(await queue(bot)).toEqual([1, 3]);
    const log = await until(
      () => runInDurableObject(bot, (_i, state) => state.storage.sql.exec<{ seq: number; status: string; last_error: string }>('SELECT seq, status, last_error FROM webhook_deliveries').toArray()),
      (rows) => rows.length > 0,
    );
    expect(log).toEqual([{ seq: 1, status: 'pending', last_error: expect.stringContaining('not sent') }]);
    await bot.setBotHook({ url: 'https://10.0.0.1/bot', secret: newWebhookSecret(), ownerId: 'owner-1' });
    expect(await queue(bot)).toEqual([1, 3]);
    await bot.setBotHook({ url: 'https://10.0.0.2/bot', secret: newWebhookSecret(), ownerId: 'owner-1' });
    expect(await queue(bot)).toEqual([]);
    await bot.setBotHook(null);
    await bot.deliver('bot-conv', [message(4, 'alice')]);
    expect(await queue(bot)).toEqual([]);
  });

  it('queues nothing for a user without a hook', async () => {
    const person = env.USERS.getByName('person-1');
    await person.deliver('bot-conv', [message(1, 'alice')]);
    expect(await queue(person)).toEqual([]);
  });
});
