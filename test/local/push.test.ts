/**
 * The push senders (services/push/) against the local push service (local/push.ts):
 * Web Push encrypted and signed by the sender, decrypted and verified by the
 * stand-in's independent node:crypto code; FCM's OAuth token exchange and send.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, exportPKCS8, SignJWT, importJWK } from 'jose';
import { startPushService, type InboxEntry, type PushService } from '../../local/push.ts';
import { fcmAccessToken, parseServiceAccount, sendFcm, type FcmConfig } from '../../services/push/fcm.ts';
import { fromBase64url, p256Jwk } from '../../services/push/keys.ts';
import { sendPush, type PushConfig } from '../../services/push/send.ts';
import type { PushTarget } from '../../services/push/subscriptions.ts';
import { generateVapidKeys, vapidKeysProblem, type VapidKeys } from '../../services/push/vapid.ts';
import { pushTopic, sendWebPush, type WebPushSubscription } from '../../services/push/webpush.ts';

let push: PushService;
let vapid: VapidKeys;

beforeAll(async () => {
  push = await startPushService({ port: 0 });
  vapid = { ...(await generateVapidKeys()), subject: 'mailto:ops@beehive.test' };
});
afterAll(() => push.close());

async function subscribe(body: Record<string, unknown> = {}): Promise<WebPushSubscription> {
  const res = await fetch(`${push.url}/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(201);
  return (await res.json()) as WebPushSubscription;
}

async function inbox(query: { endpoint: string } | { fcmToken: string }): Promise<InboxEntry[]> {
  const res = await fetch(`${push.url}/push-inbox?${new URLSearchParams(query)}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { messages: InboxEntry[] }).messages;
}

/** A fetch that lets a test tamper with the request the sender built, then sends it for real. */
function tampering(change: (headers: Headers, body: Uint8Array) => Uint8Array | void): typeof fetch {
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    const body = new Uint8Array(init?.body as Uint8Array);
    const changed = change(headers, body) ?? body;
    return fetch(input, { ...init, headers, body: changed });
  };
}

/** A fetch that records what the sender built, then sends it for real. */
function recording(seen: Array<{ url: string; headers: Headers; body: Uint8Array }>): typeof fetch {
  return async (input, init) => {
    seen.push({ url: String(input), headers: new Headers(init?.headers), body: new Uint8Array(init?.body as Uint8Array) });
    return fetch(input, init);
  };
}

describe('Web Push: the sender against the push service', () => {
  it('delivers an encrypted payload that decrypts to what was sent, with TTL, Urgency and Topic recorded', async () => {
    const sub = await subscribe();
    const payload = { type: 'message.new', conversationId: 'c-1', seq: 7, senderId: 'u-1', senderName: 'Ann', preview: 'Grüße 👋 — 你好' };
    const seen: Array<{ url: string; headers: Headers; body: Uint8Array }> = [];
    const result = await sendWebPush(vapid, sub, JSON.stringify(payload), { ttl: 3600, urgency: 'high', topic: 'conv1' }, recording(seen));
    expect(result).toEqual({ status: 201, gone: false });

    const got = await inbox({ endpoint: sub.endpoint });
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ payload, ttl: 3600, urgency: 'high', topic: 'conv1' });
    expect(Date.parse(got[0]!.receivedAt)).toBeGreaterThan(Date.now() - 10_000);

    // What went over the wire: ciphertext (not the text), aes128gcm, and a VAPID JWT per RFC 8292.
    const sent = seen[0]!;
    expect(sent.headers.get('content-encoding')).toBe('aes128gcm');
    expect(new TextDecoder().decode(sent.body)).not.toContain('message.new');
    const auth = sent.headers.get('authorization')!.match(/^vapid t=([^,]+), k=(.+)$/)!;
    expect(auth[2]).toBe(vapid.publicKey);
    expect(decodeProtectedHeader(auth[1]!)).toMatchObject({ alg: 'ES256', typ: 'JWT' });
    const claims = decodeJwt(auth[1]!);
    expect(claims.aud).toBe(new URL(sub.endpoint).origin);
    expect(claims.sub).toBe('mailto:ops@beehive.test');
    expect(claims.exp! - Date.now() / 1000).toBeGreaterThan(3600);
    expect(claims.exp! - Date.now() / 1000).toBeLessThanOrEqual(24 * 3600);
  });

  it('keeps TTL 0 as 0 and leaves Urgency and Topic out when not given', async () => {
    const sub = await subscribe();
    expect(await sendWebPush(vapid, sub, '"now or never"', { ttl: 0 })).toEqual({ status: 201, gone: false });
    const [entry] = await inbox({ endpoint: sub.endpoint });
    expect(entry).toMatchObject({ payload: 'now or never', ttl: 0 });
    expect(entry).not.toHaveProperty('topic');
    expect(entry).not.toHaveProperty('urgency');
  });

  it('replaces an undelivered message of the same topic; other topics and untopical messages stay', async () => {
    const sub = await subscribe();
    const send = (n: number, topic?: string) => sendWebPush(vapid, sub, JSON.stringify({ n }), { ttl: 60, ...(topic ? { topic } : {}) });
    await send(1, 'a');
    await send(2, 'b');
    await send(3);
    await send(4, 'a');
    await send(5);
    expect((await inbox({ endpoint: sub.endpoint })).map((e) => (e.payload as { n: number }).n)).toEqual([2, 3, 4, 5]);

    // Once the device took its messages, the same topic queues again.
    expect((await fetch(`${push.url}/push-inbox?endpoint=${encodeURIComponent(sub.endpoint)}`, { method: 'DELETE' })).status).toBe(204);
    await send(6, 'a');
    expect((await inbox({ endpoint: sub.endpoint })).map((e) => (e.payload as { n: number }).n)).toEqual([6]);
  });

  it('refuses a bad VAPID signature with 401 and lists nothing', async () => {
    const sub = await subscribe();
    const flipSignature = tampering((headers) => {
      const value = headers.get('authorization')!;
      const [, jwt, key] = value.match(/^vapid t=([^,]+), k=(.+)$/)!;
      const parts = jwt!.split('.');
      const sig = fromBase64url(parts[2]!)!;
      sig[5]! ^= 0x01;
      headers.set('authorization', `vapid t=${parts[0]}.${parts[1]}.${Buffer.from(sig).toString('base64url')}, k=${key}`);
    });
    expect(await sendWebPush(vapid, sub, '{"x":1}', { ttl: 60 }, flipSignature)).toEqual({ status: 401, gone: false });

    // Signed by one key, claiming another.
    const other = await generateVapidKeys();
    const claimOther = tampering((headers) => headers.set('authorization', headers.get('authorization')!.replace(/k=.+$/, `k=${other.publicKey}`)));
    expect((await sendWebPush(vapid, sub, '{"x":2}', { ttl: 60 }, claimOther)).status).toBe(401);

    // No Authorization at all.
    const strip = tampering((headers) => headers.delete('authorization'));
    expect((await sendWebPush(vapid, sub, '{"x":3}', { ttl: 60 }, strip)).status).toBe(401);

    expect(await inbox({ endpoint: sub.endpoint })).toEqual([]);
  });

  it('refuses VAPID JWTs with the wrong audience, too long a lifetime or no subject', async () => {
    const sub = await subscribe();
    const key = await importJWK(p256Jwk(fromBase64url(vapid.publicKey)!, fromBase64url(vapid.privateKey)!), 'ES256');
    const now = Math.floor(Date.now() / 1000);
    const jwts = {
      'wrong aud': await new SignJWT({ sub: vapid.subject }).setProtectedHeader({ alg: 'ES256' }).setAudience('https://push.example.com').setExpirationTime(now + 3600).sign(key),
      'exp past 24 h': await new SignJWT({ sub: vapid.subject }).setProtectedHeader({ alg: 'ES256' }).setAudience(push.url).setExpirationTime(now + 25 * 3600).sign(key),
      'expired': await new SignJWT({ sub: vapid.subject }).setProtectedHeader({ alg: 'ES256' }).setAudience(push.url).setExpirationTime(now - 60).sign(key),
      'no sub': await new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setAudience(push.url).setExpirationTime(now + 3600).sign(key),
    };
    for (const [why, jwt] of Object.entries(jwts)) {
      const swap = tampering((headers) => headers.set('authorization', `vapid t=${jwt}, k=${vapid.publicKey}`));
      expect({ why, status: (await sendWebPush(vapid, sub, '{}', { ttl: 60 }, swap)).status }).toEqual({ why, status: 401 });
    }
    expect(await inbox({ endpoint: sub.endpoint })).toEqual([]);
  });

  it('answers 403 to a VAPID key other than the one the subscription was created for', async () => {
    const sub = await subscribe({ applicationServerKey: vapid.publicKey });
    const stranger = { ...(await generateVapidKeys()), subject: 'mailto:someone@else.test' };
    expect((await sendWebPush(stranger, sub, '{}', { ttl: 60 })).status).toBe(403);
    expect((await sendWebPush(vapid, sub, '{"ok":true}', { ttl: 60 })).status).toBe(201);
    expect((await inbox({ endpoint: sub.endpoint })).map((e) => e.payload)).toEqual([{ ok: true }]);
  });

  it('refuses a corrupted ciphertext, or one encrypted for other keys, with 400 and lists nothing', async () => {
    const sub = await subscribe();
    const corrupt = tampering((_h, body) => {
      body[body.length - 40]! ^= 0xff;
    });
    expect(await sendWebPush(vapid, sub, '{"x":1}', { ttl: 60 }, corrupt)).toEqual({ status: 400, gone: false });

    const truncate = tampering((_h, body) => body.subarray(0, 60));
    expect((await sendWebPush(vapid, sub, '{"x":2}', { ttl: 60 }, truncate)).status).toBe(400);

    const someoneElse = await subscribe();
    expect((await sendWebPush(vapid, { endpoint: sub.endpoint, keys: someoneElse.keys }, '{"x":3}', { ttl: 60 })).status).toBe(400);

    const wrongEncoding = tampering((headers) => headers.set('content-encoding', 'aesgcm'));
    expect((await sendWebPush(vapid, sub, '{"x":4}', { ttl: 60 }, wrongEncoding)).status).toBe(400);

    const noTtl = tampering((headers) => headers.delete('ttl'));
    expect((await sendWebPush(vapid, sub, '{"x":5}', { ttl: 60 }, noTtl)).status).toBe(400);

    expect(await inbox({ endpoint: sub.endpoint })).toEqual([]);
  });

  it('reports gone (410) after the subscription is dropped, and 404 for an endpoint it never had', async () => {
    const sub = await subscribe();
    expect((await sendWebPush(vapid, sub, '{"n":1}', { ttl: 60 })).status).toBe(201);
    const dropped = await fetch(`${push.url}/subscriptions/gone`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ endpoint: sub.endpoint }) });
    expect(dropped.status).toBe(204);
    expect(await sendWebPush(vapid, sub, '{"n":2}', { ttl: 60 })).toEqual({ status: 410, gone: true });
    expect((await inbox({ endpoint: sub.endpoint })).map((e) => e.payload)).toEqual([{ n: 1 }]);

    const never = { ...sub, endpoint: `${push.url}/push/never-minted` };
    expect(await sendWebPush(vapid, never, '{}', { ttl: 60 })).toEqual({ status: 404, gone: true });
  });

  it('refuses arguments the protocol cannot carry before sending anything', async () => {
    const sub = await subscribe();
    await expect(sendWebPush(vapid, sub, '{}', { ttl: 60, topic: 'not a topic!' })).rejects.toThrow(/topic/);
    await expect(sendWebPush(vapid, sub, '{}', { ttl: 60, topic: 'a'.repeat(33) })).rejects.toThrow(/topic/);
    await expect(sendWebPush(vapid, sub, '{}', { ttl: -1 })).rejects.toThrow(/ttl/);
    await expect(sendWebPush(vapid, sub, 'x'.repeat(4000), { ttl: 60 })).rejects.toThrow(/payload/);
    expect(await inbox({ endpoint: sub.endpoint })).toEqual([]);
  });
});

describe('topics and VAPID keys', () => {
  it('derives a valid, stable, distinct Topic from a conversation id', async () => {
    const uuid = '0193a5b2-7c1e-7d3a-9f00-1b2c3d4e5f60';
    expect(await pushTopic(uuid)).toBe('0193a5b27c1e7d3a9f001b2c3d4e5f60');
    const long = 'conversation:' + 'x'.repeat(80);
    const t = await pushTopic(long);
    expect(t).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await pushTopic(long)).toBe(t);
    expect(await pushTopic(long + 'y')).not.toBe(t);
    expect(await pushTopic('short')).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('accepts a generated pair and names what is wrong with a bad one', async () => {
    const pair = await generateVapidKeys();
    expect(fromBase64url(pair.publicKey)).toHaveLength(65);
    expect(fromBase64url(pair.privateKey)).toHaveLength(32);
    expect(await vapidKeysProblem({ ...pair, subject: 'https://beehive.example' })).toBeUndefined();
    const other = await generateVapidKeys();
    expect(await vapidKeysProblem({ publicKey: pair.publicKey, privateKey: other.privateKey, subject: 'mailto:a@b.c' })).toMatch(/does not belong/);
    expect(await vapidKeysProblem({ ...pair, subject: 'ops@beehive.test' })).toMatch(/subject/);
    expect(await vapidKeysProblem({ ...pair, publicKey: pair.publicKey.slice(2), subject: 'mailto:a@b.c' })).toMatch(/public key/);
    expect(await vapidKeysProblem({ ...pair, privateKey: 'AAAA', subject: 'mailto:a@b.c' })).toMatch(/private key/);
  });
});

describe('FCM HTTP v1: the sender against the stand-in', () => {
  const config = (): FcmConfig => ({ serviceAccount: parseServiceAccount(JSON.stringify(push.serviceAccount)), apiUrl: push.url });
  const mintToken = async () => ((await (await fetch(`${push.url}/fcm/tokens`, { method: 'POST' })).json()) as { token: string }).token;

  it('exchanges the service-account JWT for a token and delivers the message', async () => {
    const token = await mintToken();
    const data = { type: 'message.new', conversationId: 'c-9', seq: '3' };
    const result = await sendFcm(config(), { token, data, android: { priority: 'high', collapse_key: 'c-9', ttl: '86400s' } });
    expect(result.status).toBe(200);
    expect(result.gone).toBe(false);
    expect(result.name).toMatch(/^projects\/beehive-local\/messages\//);
    const [entry] = await inbox({ fcmToken: token });
    expect(entry).toMatchObject({ payload: { data }, topic: 'c-9', urgency: 'high', ttl: 86400, name: result.name });
    expect(entry!.payload).not.toHaveProperty('token');
  });

  it('asks for one access token for several sends, and a new one shortly before it expires', async () => {
    const own = await startPushService({ port: 0, fcmTokenTtlSeconds: 2 });
    try {
      const cfg: FcmConfig = { serviceAccount: parseServiceAccount(JSON.stringify(own.serviceAccount)), apiUrl: own.url };
      const token = ((await (await fetch(`${own.url}/fcm/tokens`, { method: 'POST' })).json()) as { token: string }).token;
      for (let i = 0; i < 4; i++) expect((await sendFcm(cfg, { token, data: { n: String(i) } })).status).toBe(200);
      expect(own.fcmTokenRequests).toBe(1);
      // A 2 s token is refreshed after half its life.
      await new Promise((r) => setTimeout(r, 1100));
      expect((await sendFcm(cfg, { token, data: { n: '4' } })).status).toBe(200);
      expect(own.fcmTokenRequests).toBe(2);
    } finally {
      await own.close();
    }
  });

  it('reports UNREGISTERED as gone, for a token marked gone and for one never issued', async () => {
    const token = await mintToken();
    expect((await sendFcm(config(), { token, data: { n: '1' } })).status).toBe(200);
    expect((await fetch(`${push.url}/fcm/tokens/gone`, { method: 'POST', body: JSON.stringify({ token }) })).status).toBe(204);
    expect(await sendFcm(config(), { token, data: { n: '2' } })).toEqual({ status: 404, gone: true, errorCode: 'UNREGISTERED' });
    expect(await sendFcm(config(), { token: 'never-issued', data: {} })).toEqual({ status: 404, gone: true, errorCode: 'UNREGISTERED' });
    expect((await inbox({ fcmToken: token })).map((e) => (e.payload as { data: unknown }).data)).toEqual([{ n: '1' }]);
  });

  it('refuses non-string data with INVALID_ARGUMENT, not gone, and lists nothing', async () => {
    const token = await mintToken();
    const result = await sendFcm(config(), { token, data: { seq: 3 } as unknown as Record<string, string> });
    expect(result).toEqual({ status: 400, gone: false, errorCode: 'INVALID_ARGUMENT' });
    expect(await inbox({ fcmToken: token })).toEqual([]);
  });

  it('refuses an assertion signed by another key, or for another audience or scope', async () => {
    const sa = config().serviceAccount;
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const forged = { ...sa, private_key: await exportPKCS8(privateKey), private_key_id: 'forged' };
    await expect(fcmAccessToken(forged)).rejects.toThrow(/400.*invalid_grant/);

    const now = Math.floor(Date.now() / 1000);
    const realKey = await (await import('jose')).importPKCS8(sa.private_key, 'RS256');
    const assertion = (claims: Record<string, unknown>, aud: string) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'RS256' }).setIssuer(sa.client_email).setAudience(aud).setIssuedAt(now).setExpirationTime(now + 600).sign(realKey);
    const exchange = async (jwt: string) =>
      fetch(sa.token_uri, { method: 'POST', body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwt }) });
    expect((await exchange(await assertion({ scope: 'https://www.googleapis.com/auth/firebase.messaging' }, 'https://oauth2.googleapis.com/token'))).status).toBe(400);
    expect((await exchange(await assertion({ scope: 'https://www.googleapis.com/auth/drive' }, sa.token_uri))).status).toBe(400);
    const ok = await exchange(await assertion({ scope: 'https://www.googleapis.com/auth/firebase.messaging' }, sa.token_uri));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ token_type: 'Bearer', expires_in: 3599, access_token: expect.any(String) });
  });

  it('answers a send without a valid access token with 401 UNAUTHENTICATED', async () => {
    const res = await fetch(`${push.url}/v1/projects/beehive-local/messages:send`, {
      method: 'POST',
      headers: { authorization: 'Bearer ya29.made-up', 'content-type': 'application/json' },
      body: JSON.stringify({ message: { token: await mintToken() } }),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 401, status: 'UNAUTHENTICATED' } });
  });

  it('names what is missing from a service-account JSON', () => {
    expect(() => parseServiceAccount('not json')).toThrow(/not JSON/);
    const { token_uri: _omitted, ...rest } = push.serviceAccount;
    expect(() => parseServiceAccount(JSON.stringify(rest))).toThrow(/token_uri/);
  });
});

describe('sendPush: one message to either kind of device', () => {
  it('sends the same message by Web Push (JSON) and by FCM (string data), with the topic collapsing both', async () => {
    const cfg: PushConfig = { vapid, fcm: { serviceAccount: parseServiceAccount(JSON.stringify(push.serviceAccount)), apiUrl: push.url } };
    const web = await subscribe();
    const fcmToken = ((await (await fetch(`${push.url}/fcm/tokens`, { method: 'POST' })).json()) as { token: string }).token;
    const targets: PushTarget[] = [
      { id: 's1', userId: 'u1', deviceId: 'laptop', kind: 'webpush', endpoint: web.endpoint, keys: web.keys },
      { id: 's2', userId: 'u1', deviceId: 'phone', kind: 'fcm', token: fcmToken },
    ];
    const topic = await pushTopic('0193a5b2-7c1e-7d3a-9f00-1b2c3d4e5f60');
    for (const seq of [1, 2]) {
      const payload = { type: 'message.new', conversationId: '0193a5b2-7c1e-7d3a-9f00-1b2c3d4e5f60', seq, senderId: 'u2', senderName: 'Bo' };
      for (const t of targets) expect(await sendPush(cfg, t, { payload, ttl: 600, urgency: 'high', topic })).toEqual({ status: t.kind === 'fcm' ? 200 : 201, gone: false });
    }
    const [webEntry, ...moreWeb] = await inbox({ endpoint: web.endpoint });
    expect(moreWeb).toEqual([]);
    expect(webEntry).toMatchObject({ payload: { seq: 2, senderName: 'Bo' }, topic, urgency: 'high', ttl: 600 });
    const [fcmEntry, ...moreFcm] = await inbox({ fcmToken });
    expect(moreFcm).toEqual([]);
    expect(fcmEntry).toMatchObject({ payload: { data: { seq: '2', senderName: 'Bo', type: 'message.new' } }, topic, urgency: 'high', ttl: 600 });

    await fetch(`${push.url}/fcm/tokens/gone`, { method: 'POST', body: JSON.stringify({ token: fcmToken }) });
    expect(await sendPush(cfg, targets[1]!, { payload: { seq: 3 }, ttl: 60 })).toEqual({ status: 404, gone: true });
    await expect(sendPush({ vapid }, targets[1]!, { payload: {}, ttl: 60 })).rejects.toThrow(/FCM is not configured/);
    await expect(sendPush({}, targets[0]!, { payload: {}, ttl: 60 })).rejects.toThrow(/Web Push is not configured/);
  });
});
