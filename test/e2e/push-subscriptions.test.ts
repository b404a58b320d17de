/**
 * Push subscriptions and settings end to end: the routes against the running
 * stack, with subscriptions minted by the local push service; the wrong user,
 * replacement per device, bad subscriptions; and what the push job will read
 * (services/push/subscriptions.ts, services/settings.ts) straight from Postgres.
 */
import { randomUUID } from 'node:crypto';
import { neonConfig } from '@neondatabase/serverless';
import ws from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '../../db/client.ts';
import { MAX_SUBSCRIPTIONS_PER_USER, subscriptionsOf } from '../../services/push/subscriptions.ts';
import { pushPreviewsOf } from '../../services/settings.ts';
import { api, register, stack, type Account } from './client.ts';

neonConfig.webSocketConstructor = ws;
const pg = connect({ databaseUrl: stack.databaseUrl, wsProxy: stack.neonProxy });
afterAll(() => pg.pool.end());

const P = '/api/v1/push';

function expectError(res: { status: number; body: any }, status: number, code: string) {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
  expect(typeof res.body.error.message).toBe('string');
}

interface Minted {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

async function mint(): Promise<Minted> {
  const res = await fetch(`${stack.push}/subscriptions`, { method: 'POST' });
  return (await res.json()) as Minted;
}

async function mintFcmToken(): Promise<string> {
  return ((await (await fetch(`${stack.push}/fcm/tokens`, { method: 'POST' })).json()) as { token: string }).token;
}

async function subscribeWeb(acct: Account, deviceId: string, sub?: Minted) {
  const s = sub ?? (await mint());
  return api('POST', `${P}/subscriptions`, { token: acct.accessToken, body: { deviceId, kind: 'webpush', endpoint: s.endpoint, keys: s.keys } });
}

const listOf = async (acct: Account) => (await api('GET', `${P}/subscriptions`, { token: acct.accessToken })).body.items as Array<{ id: string; deviceId: string; kind: string }>;

describe('the VAPID public key', () => {
  it('is served without authentication, as a 65-byte P-256 point', async () => {
    const res = await api('GET', `${P}/vapid-public-key`);
    expect(res.status).toBe(200);
    const bytes = Buffer.from(res.body.publicKey, 'base64url');
    expect(bytes.length).toBe(65);
    expect(bytes[0]).toBe(0x04);
  });
});

describe('subscribing devices', () => {
  it('stores a Web Push and an FCM subscription per device and lists them to their owner only', async () => {
    const alice = await register();
    const bob = await register();
    const minted = await mint();
    const web = await subscribeWeb(alice, 'laptop', minted);
    expect(web.status).toBe(201);
    expect(web.body).toEqual({ id: expect.any(String), deviceId: 'laptop', kind: 'webpush', createdAt: expect.any(String) });
    expect(new Date(web.body.createdAt).toISOString()).toBe(web.body.createdAt);

    const token = await mintFcmToken();
    const fcm = await api('POST', `${P}/subscriptions`, { token: alice.accessToken, body: { deviceId: 'phone', kind: 'fcm', token } });
    expect(fcm.status).toBe(201);
    expect(fcm.body).toMatchObject({ deviceId: 'phone', kind: 'fcm' });

    const list = await api('GET', `${P}/subscriptions`, { token: alice.accessToken });
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ items: [web.body, fcm.body], nextCursor: null });
    expect(await listOf(bob)).toEqual([]);

    // What the push job reads: the keys and token, as given.
    expect(await subscriptionsOf(pg.db, alice.user.id)).toEqual([
      { id: web.body.id, userId: alice.user.id, deviceId: 'laptop', kind: 'webpush', endpoint: minted.endpoint, keys: minted.keys },
      { id: fcm.body.id, userId: alice.user.id, deviceId: 'phone', kind: 'fcm', token },
    ]);
    expect(await subscriptionsOf(pg.db, bob.user.id)).toEqual([]);
  });

  it('accepts the PushSubscription JSON a browser produces (with expirationTime)', async () => {
    const alice = await register();
    const s = await mint();
    const res = await api('POST', `${P}/subscriptions`, { token: alice.accessToken, body: { deviceId: 'browser', kind: 'webpush', endpoint: s.endpoint, expirationTime: null, keys: s.keys } });
    expect(res.status).toBe(201);
  });

  it('replaces the subscription of the same device under a new id', async () => {
    const alice = await register();
    const first = await subscribeWeb(alice, 'laptop');
    const second = await mint();
    const replaced = await subscribeWeb(alice, 'laptop', second);
    expect(replaced.status).toBe(201);
    expect(replaced.body.id).not.toBe(first.body.id);
    expect((await listOf(alice)).map((s) => s.id)).toEqual([replaced.body.id]);
    expect((await subscriptionsOf(pg.db, alice.user.id)).map((s) => s.kind === 'webpush' && s.endpoint)).toEqual([second.endpoint]);
    // The old id is gone: deleting it finds nothing, and the new subscription stays.
    expectError(await api('DELETE', `${P}/subscriptions/${first.body.id}`, { token: alice.accessToken }), 404, 'not_found');
    expect((await listOf(alice)).map((s) => s.id)).toEqual([replaced.body.id]);

    // A device may switch from Web Push to FCM.
    const fcm = await api('POST', `${P}/subscriptions`, { token: alice.accessToken, body: { deviceId: 'laptop', kind: 'fcm', token: await mintFcmToken() } });
    expect(fcm.status).toBe(201);
    expect(await listOf(alice)).toEqual([expect.objectContaining({ id: fcm.body.id, deviceId: 'laptop', kind: 'fcm' })]);
  });

  it('gives an endpoint or token to the account that registered it last (another account on the same device)', async () => {
    const alice = await register();
    const bob = await register();
    const shared = await mint();
    expect((await subscribeWeb(alice, 'family-pc', shared)).status).toBe(201);
    expect((await subscribeWeb(bob, 'family-pc', shared)).status).toBe(201);
    expect(await listOf(alice)).toEqual([]);
    expect((await listOf(bob)).map((s) => s.deviceId)).toEqual(['family-pc']);

    const token = await mintFcmToken();
    const body = { deviceId: 'tablet', kind: 'fcm', token };
    expect((await api('POST', `${P}/subscriptions`, { token: bob.accessToken, body })).status).toBe(201);
    expect((await api('POST', `${P}/subscriptions`, { token: alice.accessToken, body })).status).toBe(201);
    expect((await subscriptionsOf(pg.db, bob.user.id)).map((s) => s.deviceId)).toEqual(['family-pc']);
    expect((await subscriptionsOf(pg.db, alice.user.id)).map((s) => s.deviceId)).toEqual(['tablet']);
  });

  it(`caps a user at ${MAX_SUBSCRIPTIONS_PER_USER} devices, while existing devices can still re-subscribe`, async () => {
    const alice = await register();
    for (let i = 0; i < MAX_SUBSCRIPTIONS_PER_USER; i++) {
      const res = await api('POST', `${P}/subscriptions`, { token: alice.accessToken, body: { deviceId: `d${i}`, kind: 'fcm', token: `tok-${randomUUID()}` } });
      expect(res.status).toBe(201);
    }
    const over = await api('POST', `${P}/subscriptions`, { token: alice.accessToken, body: { deviceId: 'one-more', kind: 'fcm', token: `tok-${randomUUID()}` } });
    expectError(over, 409, 'subscription_limit');
    const again = await api('POST', `${P}/subscriptions`, { token: alice.accessToken, body: { deviceId: 'd0', kind: 'fcm', token: `tok-${randomUUID()}` } });
    expect(again.status).toBe(201);
    expect(await subscriptionsOf(pg.db, alice.user.id)).toHaveLength(MAX_SUBSCRIPTIONS_PER_USER);

    // Pages of the list, oldest first, cover every device once.
    const first = await api('GET', `${P}/subscriptions?limit=15`, { token: alice.accessToken });
    expect(first.body.items).toHaveLength(15);
    const rest = await api('GET', `${P}/subscriptions?limit=15&cursor=${first.body.nextCursor}`, { token: alice.accessToken });
    expect(rest.body.nextCursor).toBeNull();
    const ids = [...first.body.items, ...rest.body.items].map((s: { deviceId: string }) => s.deviceId);
    expect(new Set(ids).size).toBe(MAX_SUBSCRIPTIONS_PER_USER);
    expectError(await api('GET', `${P}/subscriptions?cursor=not-a-cursor`, { token: alice.accessToken }), 400, 'validation_failed');
  });
});

describe('unsubscribing', () => {
  it('deletes my subscription; someone else’s answers 404 and stays', async () => {
    const alice = await register();
    const mallory = await register();
    const sub = await subscribeWeb(alice, 'laptop');
    expectError(await api('DELETE', `${P}/subscriptions/${sub.body.id}`, { token: mallory.accessToken }), 404, 'not_found');
    expect((await listOf(alice)).map((s) => s.id)).toEqual([sub.body.id]);

    expect((await api('DELETE', `${P}/subscriptions/${sub.body.id}`, { token: alice.accessToken })).status).toBe(204);
    expect(await listOf(alice)).toEqual([]);
    expectError(await api('DELETE', `${P}/subscriptions/${sub.body.id}`, { token: alice.accessToken }), 404, 'not_found');
    expectError(await api('DELETE', `${P}/subscriptions/not-an-id`, { token: alice.accessToken }), 400, 'validation_failed');
  });

  it('requires authentication on every subscription route', async () => {
    expectError(await api('GET', `${P}/subscriptions`), 401, 'unauthenticated');
    expectError(await api('POST', `${P}/subscriptions`, { body: { deviceId: 'x', kind: 'fcm', token: 'abc' } }), 401, 'unauthenticated');
    expectError(await api('DELETE', `${P}/subscriptions/${randomUUID()}`), 401, 'unauthenticated');
    expectError(await api('PATCH', '/api/v1/users/me/settings', { body: { pushPreviews: false } }), 401, 'unauthenticated');
  });
});

describe('bad subscriptions', () => {
  const key65 = (first = 0x04) => Buffer.concat([Buffer.from([first]), Buffer.alloc(64, 7)]).toString('base64url');
  const cases: Array<[string, (s: Minted) => Record<string, unknown>, RegExp]> = [
    ['a plain http endpoint on a public host', (s) => ({ endpoint: 'http://push.example.com/p/1', keys: s.keys }), /endpoint: .*loopback only/],
    ['an ftp endpoint', (s) => ({ endpoint: 'ftp://push.example.com/p/1', keys: s.keys }), /endpoint: must use https/],
    ['a relative endpoint', (s) => ({ endpoint: '/push/1', keys: s.keys }), /endpoint: must be an absolute URL/],
    ['a private address (10/8)', (s) => ({ endpoint: 'https://10.0.0.8/push/1', keys: s.keys }), /endpoint: .*private/],
    ['a private address (192.168/16)', (s) => ({ endpoint: 'https://192.168.1.20/push/1', keys: s.keys }), /endpoint: .*private/],
    ['the metadata address', (s) => ({ endpoint: 'https://169.254.169.254/latest/meta-data/', keys: s.keys }), /endpoint: .*linkLocal/],
    ['a unique-local IPv6 address', (s) => ({ endpoint: 'https://[fd12:3456::1]/push/1', keys: s.keys }), /endpoint: .*uniqueLocal/],
    ['plain http to a private address', (s) => ({ endpoint: 'http://10.0.0.8/push/1', keys: s.keys }), /endpoint: .*loopback only/],
    ['a 64-byte p256dh', (s) => ({ endpoint: s.endpoint, keys: { ...s.keys, p256dh: Buffer.alloc(64, 4).toString('base64url') } }), /p256dh: must be 65 bytes/],
    ['a compressed-point p256dh', (s) => ({ endpoint: s.endpoint, keys: { ...s.keys, p256dh: key65(0x02) } }), /p256dh: must be a 65-byte uncompressed/],
    ['a p256dh off the curve', (s) => ({ endpoint: s.endpoint, keys: { ...s.keys, p256dh: key65() } }), /p256dh: is not a point on the P-256 curve/],
    ['a p256dh that is not base64url', (s) => ({ endpoint: s.endpoint, keys: { ...s.keys, p256dh: '!'.repeat(87) } }), /p256dh: must be base64url/],
    ['a 15-byte auth', (s) => ({ endpoint: s.endpoint, keys: { ...s.keys, auth: Buffer.alloc(15, 1).toString('base64url') } }), /auth: must be 16 bytes/],
    ['a 32-byte auth', (s) => ({ endpoint: s.endpoint, keys: { ...s.keys, auth: Buffer.alloc(32, 1).toString('base64url') } }), /auth: must be 16 bytes/],
    ['no keys', (s) => ({ endpoint: s.endpoint }), /keys/],
  ];

  it.each(cases)('refuses %s with 400 and stores nothing', async (_why, body, why) => {
    const alice = await register();
    const s = await mint();
    const res = await api('POST', `${P}/subscriptions`, { token: alice.accessToken, body: { deviceId: 'laptop', kind: 'webpush', ...body(s) } });
    expectError(res, 400, 'validation_failed');
    expect(res.body.error.message).toMatch(why);
    expect(await listOf(alice)).toEqual([]);
  });

  it.each([
    ['an unknown kind', { deviceId: 'd', kind: 'apns', token: 'abc' }],
    ['no deviceId', { kind: 'fcm', token: 'abc' }],
    ['a deviceId with spaces', { deviceId: 'my phone', kind: 'fcm', token: 'abc' }],
    ['an empty FCM token', { deviceId: 'd', kind: 'fcm', token: '' }],
    ['an FCM token with spaces', { deviceId: 'd', kind: 'fcm', token: 'a b' }],
    ['an unknown field', { deviceId: 'd', kind: 'fcm', token: 'abc', extra: 1 }],
  ])('refuses %s with 400', async (_why, body) => {
    const alice = await register();
    expectError(await api('POST', `${P}/subscriptions`, { token: alice.accessToken, body }), 400, 'validation_failed');
    expect(await listOf(alice)).toEqual([]);
  });

  it('does not disturb an existing subscription when a replacement is refused', async () => {
    const alice = await register();
    const good = await subscribeWeb(alice, 'laptop');
    const s = await mint();
    const bad = await api('POST', `${P}/subscriptions`, { token: alice.accessToken, body: { deviceId: 'laptop', kind: 'webpush', endpoint: 'https://10.1.1.1/x', keys: s.keys } });
    expectError(bad, 400, 'validation_failed');
    expect((await listOf(alice)).map((x) => x.id)).toEqual([good.body.id]);
  });
});

describe('settings', () => {
  it('defaults pushPreviews to true, changes it per user, and refuses bad input', async () => {
    const alice = await register();
    const bob = await register();
    const S = '/api/v1/users/me/settings';
    expect(await api('GET', S, { token: alice.accessToken })).toMatchObject({ status: 200, body: { pushPreviews: true } });
    expect(await pushPreviewsOf(pg.db, alice.user.id)).toBe(true);

    expect(await api('PATCH', S, { token: alice.accessToken, body: { pushPreviews: false } })).toMatchObject({ status: 200, body: { pushPreviews: false } });
    expect(await api('GET', S, { token: alice.accessToken })).toMatchObject({ body: { pushPreviews: false } });
    expect(await pushPreviewsOf(pg.db, alice.user.id)).toBe(false);
    // Another user's settings are their own.
    expect(await api('GET', S, { token: bob.accessToken })).toMatchObject({ body: { pushPreviews: true } });
    expect(await pushPreviewsOf(pg.db, bob.user.id)).toBe(true);

    expect(await api('PATCH', S, { token: alice.accessToken, body: {} })).toMatchObject({ status: 200, body: { pushPreviews: false } });
    expectError(await api('PATCH', S, { token: alice.accessToken, body: { pushPreviews: 'no' } }), 400, 'validation_failed');
    expectError(await api('PATCH', S, { token: alice.accessToken, body: { pushPreviews: true, theme: 'dark' } }), 400, 'validation_failed');
    expect(await pushPreviewsOf(pg.db, alice.user.id)).toBe(false);

    expect(await api('PATCH', S, { token: alice.accessToken, body: { pushPreviews: true } })).toMatchObject({ status: 200, body: { pushPreviews: true } });
    // The profile routes next door are unaffected.
    expect((await api('GET', '/api/v1/users/me', { token: alice.accessToken })).body.id).toBe(alice.user.id);
  });
});
