/**
 * Outgoing webhooks end to end, against receivers on loopback: signed
 * deliveries of messages and events, seq order under failures and retries,
 * the same webhook-id on every attempt, dead letters and disabling, secret
 * rotation, the delivery log, URL rules (never sending traffic off the
 * machine: refused URLs are refused before anything is sent), and who may
 * manage webhooks.
 */
import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import { api, befriend, createGroup, register, type Account } from './client.ts';
import { Receiver } from './receiver.ts';
import { Socket } from './ws-client.ts';

const C = '/api/v1/conversations';
const receivers: Receiver[] = [];
afterAll(() => Promise.all(receivers.map((r) => r.close())));

async function receiver(): Promise<Receiver> {
  const r = await Receiver.start();
  receivers.push(r);
  return r;
}

function expectError(res: { status: number; body: any }, status: number, code: string) {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
}

let n = 0;
const send = (who: Account, id: string, content: string) =>
  api('POST', `${C}/${id}/messages`, { token: who.accessToken, body: { clientMsgId: `w${++n}-${Date.now()}`, type: 'text', content } });
const addHook = (who: Account, id: string, body: Record<string, unknown>) => api('POST', `${C}/${id}/webhooks`, { token: who.accessToken, body });
const deliveries = (who: Account, id: string, wid: string) => api('GET', `${C}/${id}/webhooks/${wid}/deliveries`, { token: who.accessToken });

async function groupWithHook(events?: string[]) {
  const [owner, member] = await Promise.all([register(), register()]);
  const conv = await createGroup(owner, [member]);
  const r = await receiver();
  const hook = await addHook(owner, conv.id, { url: r.url, ...(events ? { events } : {}) });
  expect(hook.status).toBe(201);
  return { owner, member, conv, r, hook: hook.body };
}

const verify = (secret: string, got: { body: string; headers: Record<string, unknown> }) =>
  new Webhook(secret).verify(got.body, got.headers as Record<string, string>);

describe('webhook deliveries', () => {
  it('delivers what is appended after registration, messages and events in seq order, signed per Standard Webhooks', async () => {
    const [owner, member, extra] = await Promise.all([register(), register(), register()]);
    const conv = await createGroup(owner, [member]);
    await send(owner, conv.id, 'before the webhook');
    const r = await receiver();
    const created = await addHook(owner, conv.id, { url: r.url });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ url: r.url, events: ['message.new', 'conversation.event'], createdAfterSeq: 1 });
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);

    await send(member, conv.id, 'hello hook');
    await befriend(owner, extra);
    expect((await api('POST', `${C}/${conv.id}/members`, { token: owner.accessToken, body: { userIds: [extra.user.id] } })).status).toBe(200);
    await send(owner, conv.id, 'welcome');
    const got = await r.until((all) => all.length >= 3);
    expect(got.map((x) => [x.json.type, x.json.seq])).toEqual([['message.new', 2], ['conversation.event', 3], ['message.new', 4]]);
    expect(got[0]!.json).toMatchObject({ conversationId: conv.id, message: { seq: 2, senderId: member.user.id, content: 'hello hook' } });
    expect(got[1]!.json.event).toMatchObject({ kind: 'member.joined', userIds: [extra.user.id], seq: 3 });
    for (const x of got) {
      expect(verify(created.body.secret, x)).toEqual(x.json);
      expect(x.headers['webhook-id']).toBe(`msg_${created.body.id}_${x.json.seq}`);
      expect(Math.abs(Number(x.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(30);
      expect(x.headers['content-type']).toBe('application/json');
    }
    // Another secret does not verify, nor does a changed body.
    expect(() => verify('whsec_' + Buffer.alloc(24, 7).toString('base64'), got[0]!)).toThrow();
    expect(() => verify(created.body.secret, { ...got[0]!, body: got[0]!.body.replace('hello', 'HELLO') })).toThrow();
    const log = await deliveries(owner, conv.id, created.body.id);
    expect(log.body.items.map((d: any) => [d.seq, d.status, d.attempts, d.lastStatus])).toEqual([[4, 'delivered', 1, 204], [3, 'delivered', 1, 204], [2, 'delivered', 1, 204]]);
  });

  it('sends only the chosen events', async () => {
    const { owner, member, conv, r } = await groupWithHook(['conversation.event']);
    await send(member, conv.id, 'not for this hook');
    expect((await api('PATCH', `${C}/${conv.id}`, { token: owner.accessToken, body: { name: 'renamed' } })).status).toBe(200);
    const got = await r.until((all) => all.length >= 1);
    await new Promise((res) => setTimeout(res, 300));
    expect(r.received.map((x) => [x.json.type, x.json.event?.kind])).toEqual([['conversation.event', 'conversation.updated']]);
    expect(got[0]!.json.seq).toBe(2);
  });

  it('keeps seq order under failures: seq N+1 is not sent before seq N succeeded, retries carry the same webhook-id', async () => {
    const { owner, conv, r, hook } = await groupWithHook(['message.new']);
    // The first message is refused three times (500, 503, then a timeout-free 429), then taken.
    r.respond = (x, attempt) => (x.json?.seq === 1 && attempt <= 3 ? [500, 503, 429][attempt - 1]! : 200);
    for (const text of ['one', 'two', 'three', 'four']) expect((await send(owner, conv.id, text)).status).toBe(201);
    await r.until(() => r.delivered().length >= 4);
    expect(r.received.map((x) => x.json.seq)).toEqual([1, 1, 1, 1, 2, 3, 4]);
    expect(new Set(r.received.slice(0, 4).map((x) => x.headers['webhook-id']))).toEqual(new Set([`msg_${hook.id}_1`]));
    // Exponential backoff: each retry waited longer than the one before (100, 200, 400 ms).
    const gaps = r.received.slice(1, 4).map((x, i) => x.at - r.received[i]!.at);
    expect(gaps[0]).toBeGreaterThanOrEqual(80);
    expect(gaps[2]).toBeGreaterThan(gaps[0]!);
    const log = await deliveries(owner, conv.id, hook.id);
    expect(log.body.items.find((d: any) => d.seq === 1)).toMatchObject({ status: 'delivered', attempts: 4, lastStatus: 200, deliveredAt: expect.any(String) });
    expect(log.body.items.find((d: any) => d.seq === 1).lastError).toBeUndefined();
  });

  it('a delivery failing past the give-up time is dead-lettered, the next goes; a hook that keeps failing is disabled and its creator told', async () => {
    const { owner, conv, r, hook } = await groupWithHook(['message.new']);
    const device = await Socket.connect({ token: owner.accessToken, deviceId: 'hooks' });
    r.respond = () => 500;
    await send(owner, conv.id, 'never taken');
    await send(owner, conv.id, 'also refused');
    const frame = await device.nextOfType('webhook.disabled', 15_000);
    expect(frame).toMatchObject({ webhookId: hook.id, conversationId: conv.id, url: r.url, reason: expect.stringContaining('HTTP 500') });
    const log = await deliveries(owner, conv.id, hook.id);
    expect(log.body.items.map((d: any) => [d.seq, d.status, d.lastStatus])).toEqual([[2, 'failed', 500], [1, 'failed', 500]]);
    expect(log.body.items[1].attempts).toBeGreaterThan(3);
    const listed = await api('GET', `${C}/${conv.id}/webhooks`, { token: owner.accessToken });
    expect(listed.body.items[0]).toMatchObject({ id: hook.id, disabledAt: expect.any(String), failingSince: expect.any(String) });
    // Disabled: nothing more is sent.
    const before = r.received.length;
    r.respond = () => 200;
    await send(owner, conv.id, 'after disabling');
    await new Promise((res) => setTimeout(res, 500));
    expect(r.received.length).toBe(before);
    device.ws.close();
  });

  it('signs with both secrets for the overlap after a rotation; the new secret is returned once', async () => {
    const { owner, member, conv, r, hook } = await groupWithHook(['message.new']);
    await send(member, conv.id, 'old secret');
    await r.until((all) => all.length >= 1);
    const rotated = await api('POST', `${C}/${conv.id}/webhooks/${hook.id}/rotate-secret`, { token: owner.accessToken });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(hook.secret);
    await send(member, conv.id, 'both secrets');
    const [first, second] = await r.until((all) => all.length >= 2);
    expect(String(first!.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(String(second!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verify(hook.secret, second!)).toMatchObject({ seq: 2 });
    expect(verify(rotated.body.secret, second!)).toMatchObject({ seq: 2 });
    expect(() => verify(rotated.body.secret, first!)).toThrow();
    const listed = await api('GET', `${C}/${conv.id}/webhooks`, { token: owner.accessToken });
    expect(JSON.stringify(listed.body)).not.toContain('whsec_');
  });

  it('stops at once when deleted', async () => {
    const { owner, member, conv, r, hook } = await groupWithHook();
    expect((await api('DELETE', `${C}/${conv.id}/webhooks/${hook.id}`, { token: owner.accessToken })).status).toBe(204);
    await send(member, conv.id, 'nobody listens');
    await new Promise((res) => setTimeout(res, 400));
    expect(r.received).toEqual([]);
    expectError(await api('DELETE', `${C}/${conv.id}/webhooks/${hook.id}`, { token: owner.accessToken }), 404, 'not_found');
    expectError(await deliveries(owner, conv.id, hook.id), 404, 'not_found');
    expect((await api('GET', `${C}/${conv.id}/webhooks`, { token: owner.accessToken })).body.items).toEqual([]);
  });
});

describe('webhook URLs', () => {
  it('must be https to a public host; plain http only to loopback (the local stack sets the flag); private and metadata addresses are refused', async () => {
    const [owner, member] = await Promise.all([register(), register()]);
    const conv = await createGroup(owner, [member]);
    const refused = [
      'http://example.com/hook', 'ftp://example.com/', 'not a url', 'https://10.1.2.3/hook', 'https://192.168.0.10/', 'https://172.16.5.4/',
      'https://169.254.169.254/latest/meta-data/', 'https://[fe80::1]/', 'https://[fd00::1]/', 'https://[::ffff:10.0.0.1]/', 'https://0x0a000001/',
      'https://100.64.0.1/', 'https://metadata.google.internal/', 'https://printer.local/', 'https://intranet/', 'http://10.0.0.1/',
      'https://user:pass@hooks.example.com/',
    ];
    for (const url of refused) {
      const res = await addHook(owner, conv.id, { url });
      expect({ url, status: res.status, code: res.body?.error?.code }).toEqual({ url, status: 400, code: 'validation_failed' });
    }
    expectError(await addHook(owner, conv.id, { url: 'http://127.0.0.1:9/hook', events: [] }), 400, 'validation_failed');
    expectError(await addHook(owner, conv.id, { url: 'http://127.0.0.1:9/hook', events: ['message.deleted'] }), 400, 'validation_failed');
    expect((await api('GET', `${C}/${conv.id}/webhooks`, { token: owner.accessToken })).body.items).toEqual([]);
    // Loopback over http is accepted here, where WEBHOOK_ALLOW_HTTP_LOOPBACK is set.
    expect((await addHook(owner, conv.id, { url: 'http://127.0.0.1:9/hook' })).status).toBe(201);
  });
});

describe('who manages webhooks', () => {
  it('a group’s owner and admins; not a plain member (403 forbidden); not a stranger (403 not_member); 404 for unknown ids', async () => {
    const [owner, admin, member, stranger] = await Promise.all([register(), register(), register(), register()]);
    const conv = await createGroup(owner, [admin, member]);
    expect((await api('PATCH', `${C}/${conv.id}/members/${admin.user.id}`, { token: owner.accessToken, body: { role: 'admin' } })).status).toBe(200);
    const r = await receiver();
    const byAdmin = await addHook(admin, conv.id, { url: r.url });
    expect(byAdmin.status).toBe(201);
    const wid = byAdmin.body.id;
    expectError(await addHook(member, conv.id, { url: r.url }), 403, 'forbidden');
    expectError(await api('GET', `${C}/${conv.id}/webhooks`, { token: member.accessToken }), 403, 'forbidden');
    expectError(await api('POST', `${C}/${conv.id}/webhooks/${wid}/rotate-secret`, { token: member.accessToken }), 403, 'forbidden');
    expectError(await deliveries(member, conv.id, wid), 403, 'forbidden');
    expectError(await api('DELETE', `${C}/${conv.id}/webhooks/${wid}`, { token: member.accessToken }), 403, 'forbidden');
    expectError(await addHook(stranger, conv.id, { url: r.url }), 403, 'not_member');
    expectError(await api('GET', `${C}/${conv.id}/webhooks`, { token: stranger.accessToken }), 403, 'not_member');
    expectError(await api('DELETE', `${C}/${conv.id}/webhooks/${wid}`, { token: stranger.accessToken }), 403, 'not_member');
    expectError(await addHook(owner, '0193a5b2-7c1e-7d3a-9f00-000000000000', { url: r.url }), 404, 'not_found');
    expectError(await api('GET', `${C}/${conv.id}/webhooks`), 401, 'unauthenticated');
    // A webhook id of another conversation is not found here.
    const other = await createGroup(owner, [member], 'other');
    expectError(await api('DELETE', `${C}/${other.id}/webhooks/${wid}`, { token: owner.accessToken }), 404, 'not_found');
    expect((await api('GET', `${C}/${conv.id}/webhooks`, { token: owner.accessToken })).body.items.map((w: any) => w.id)).toEqual([wid]);
  });

  it('either member of a single chat', async () => {
    const [a, b] = await Promise.all([register(), register()]);
    await befriend(a, b);
    const single = await api('POST', C, { token: a.accessToken, body: { kind: 'single', peerId: b.user.id } });
    const r = await receiver();
    expect((await addHook(b, single.body.id, { url: r.url })).status).toBe(201);
    await send(a, single.body.id, 'to the hook');
    const [got] = await r.until((all) => all.length >= 1);
    expect(got!.json).toMatchObject({ type: 'message.new', conversationId: single.body.id, message: { content: 'to the hook' } });
  });
});
