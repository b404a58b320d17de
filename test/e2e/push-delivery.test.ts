/**
 * Offline push end to end: a message for a user reaches, through the UserDO's
 * decision, QStash and the push job, each of their subscribed devices that
 * has no socket open — Web Push decrypted by the local push service, and FCM.
 * Nothing for the sender's own messages, for events, for muted conversations
 * (unless mentioned), or for a device that is online; bursts coalesce; a gone
 * endpoint loses its subscription.
 */
import { describe, expect, it } from 'vitest';
import { api, createGroup, register, stack, type Account } from './client.ts';
import { Socket } from './ws-client.ts';

interface Inbox {
  messages: Array<{ payload: Record<string, unknown>; topic?: string; urgency?: string; ttl: number }>;
}

async function webDevice(acct: Account, deviceId: string): Promise<string> {
  const sub = (await (await fetch(`${stack.push}/subscriptions`, { method: 'POST' })).json()) as { endpoint: string; keys: { p256dh: string; auth: string } };
  const res = await api('POST', '/api/v1/push/subscriptions', { token: acct.accessToken, body: { deviceId, kind: 'webpush', endpoint: sub.endpoint, keys: sub.keys } });
  expect(res.status).toBe(201);
  return sub.endpoint;
}

async function fcmDevice(acct: Account, deviceId: string): Promise<string> {
  const { token } = (await (await fetch(`${stack.push}/fcm/tokens`, { method: 'POST' })).json()) as { token: string };
  const res = await api('POST', '/api/v1/push/subscriptions', { token: acct.accessToken, body: { deviceId, kind: 'fcm', token } });
  expect(res.status).toBe(201);
  return token;
}

const inbox = async (q: string): Promise<Inbox['messages']> => ((await (await fetch(`${stack.push}/push-inbox?${q}`)).json()) as Inbox).messages;
const webInbox = (endpoint: string) => inbox(`endpoint=${encodeURIComponent(endpoint)}`);

/** Waits until `probe` holds, then returns its value (or the last value after `ms`). */
async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

let n = 0;
const text = (content: string, extra: Record<string, unknown> = {}) => ({ clientMsgId: `p${++n}-${Date.now()}`, type: 'text', content, ...extra });
const send = (who: Account, conv: string, body: unknown) => api('POST', `/api/v1/conversations/${conv}/messages`, { token: who.accessToken, body });

describe('offline push', () => {
  it('reaches an offline Web Push device with the sender and a preview, decrypted by the push service', async () => {
    const [a, b] = await Promise.all([register(), register()]);
    const g = await createGroup(a, [b]);
    const endpoint = await webDevice(b, 'b-browser');
    expect((await send(a, g.id, text('dinner at eight?'))).status).toBe(201);
    const got = await until(() => webInbox(endpoint), (m) => m.length > 0);
    expect(got).toHaveLength(1);
    expect(got[0]!.payload).toEqual({ type: 'message.new', conversationId: g.id, seq: 1, senderId: a.user.id, senderName: a.user.username, preview: 'dinner at eight?' });
    expect(got[0]!.topic).toMatch(/^[A-Za-z0-9_-]{1,32}$/);
  });

  it('no push for the sender, for events or to an online device; no preview when the user turned previews off', async () => {
    const [a, b] = await Promise.all([register(), register()]);
    const g = await createGroup(a, [b]);
    const mine = await webDevice(a, 'a-browser');
    const theirs = await webDevice(b, 'b-browser');
    const online = await Socket.connect({ token: b.accessToken, deviceId: 'b-browser' });
    try {
      expect((await send(a, g.id, text('while you are here'))).status).toBe(201);
      await online.nextOfType('message.new');
      await api('PUT', `/api/v1/conversations/${g.id}/messages/1/reactions/${encodeURIComponent('👍')}`, { token: b.accessToken });
    } finally {
      await online.close();
    }
    await new Promise((r) => setTimeout(r, 1500));
    expect(await webInbox(theirs)).toEqual([]); // online when it came
    expect(await webInbox(mine)).toEqual([]); // own message; the reaction is an event
    expect((await api('PATCH', '/api/v1/users/me/settings', { token: b.accessToken, body: { pushPreviews: false } })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 500)); // the socket's close reached the UserDO
    expect((await send(a, g.id, text('secret'))).status).toBe(201);
    const got = await until(() => webInbox(theirs), (m) => m.length > 0);
    expect(got.at(-1)!.payload).toMatchObject({ seq: 3, senderId: a.user.id });
    expect(got.at(-1)!.payload.preview).toBeUndefined();
  });

  it('a muted conversation pushes only messages that mention the user', async () => {
    const [a, b] = await Promise.all([register(), register()]);
    const g = await createGroup(a, [b]);
    const endpoint = await webDevice(b, 'b-phone');
    expect((await api('PUT', `/api/v1/conversations/${g.id}/settings`, { token: b.accessToken, body: { muted: true } })).body).toEqual({ muted: true });
    expect((await api('PUT', `/api/v1/conversations/${g.id}/settings`, { token: a.accessToken, body: {} })).body).toEqual({ muted: false });
    expect((await send(a, g.id, text('quiet'))).status).toBe(201);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await webInbox(endpoint)).toEqual([]);
    expect((await send(a, g.id, text('@b look', { mentions: [b.user.id] }))).status).toBe(201);
    const got = await until(() => webInbox(endpoint), (m) => m.length > 0);
    expect(got.map((m) => m.payload.seq)).toEqual([2]);
    const stranger = await register();
    expect((await api('PUT', `/api/v1/conversations/${g.id}/settings`, { token: stranger.accessToken, body: { muted: true } })).status).toBe(403);
  });

  it('a burst coalesces into few pushes, the last naming the newest message; FCM devices get it too', async () => {
    const [a, b] = await Promise.all([register(), register()]);
    const g = await createGroup(a, [b]);
    const endpoint = await webDevice(b, 'b-web');
    const token = await fcmDevice(b, 'b-android');
    for (let i = 1; i <= 8; i++) expect((await send(a, g.id, text(`burst ${i}`))).status).toBe(201);
    const web = await until(() => webInbox(endpoint), (m) => m.at(-1)?.payload.seq === 8, 15_000);
    const fcm = await until(() => inbox(`fcmToken=${encodeURIComponent(token)}`), (m) => JSON.stringify(m.at(-1)?.payload ?? {}).includes('"8"') || m.at(-1)?.payload.seq === 8, 15_000);
    expect(web.at(-1)!.payload.seq).toBe(8);
    expect(web.length).toBeLessThanOrEqual(3);
    expect(fcm.length).toBeGreaterThan(0);
    expect(fcm.length).toBeLessThanOrEqual(3);
  });

  it('an endpoint the push service reports gone loses its subscription', async () => {
    const [a, b] = await Promise.all([register(), register()]);
    const g = await createGroup(a, [b]);
    const endpoint = await webDevice(b, 'b-old');
    expect((await fetch(`${stack.push}/subscriptions/gone`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ endpoint }) })).status).toBe(204);
    expect((await send(a, g.id, text('anyone?'))).status).toBe(201);
    const subs = await until(
      async () => (await api('GET', '/api/v1/push/subscriptions', { token: b.accessToken })).body.items as unknown[],
      (items) => items.length === 0,
    );
    expect(subs).toEqual([]);
  });
});
