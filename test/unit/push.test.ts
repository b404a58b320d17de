/**
 * Push code inside workerd: the URL rule, the Web Push and FCM senders on
 * workerd's Web Crypto (the wire round trip is test/local/push.test.ts), and
 * the public VAPID key route.
 */
import { env, SELF } from 'cloudflare:test';
import { exportPKCS8, exportSPKI, generateKeyPair, importJWK, importSPKI, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { fcmAccessToken, type ServiceAccount } from '../../services/push/fcm.ts';
import { fromBase64url, p256Jwk } from '../../services/push/keys.ts';
import { generateVapidKeys, vapidKeysOf, vapidKeysProblem } from '../../services/push/vapid.ts';
import { messagePushPayload } from '../../services/push/send.ts';
import { sendWebPush } from '../../services/push/webpush.ts';
import { checkPublicUrl } from '../../services/safe-url.ts';

describe('checkPublicUrl', () => {
  const strict = { allowHttpLoopback: false };
  const local = { allowHttpLoopback: true };

  it.each([
    'https://fcm.googleapis.com/fcm/send/abc:def',
    'https://updates.push.services.mozilla.com/wpush/v2/gAAAA',
    'https://web.push.apple.com/QGZ1',
    'https://93.184.216.34/push',
    'https://[2606:4700::6810:84e5]/push',
  ])('accepts %s', (url) => {
    expect(checkPublicUrl(url, strict)).toBeUndefined();
  });

  it.each([
    ['http://push.example.com/x', /https/],
    ['ftp://push.example.com/x', /https/],
    ['not a url', /absolute URL/],
    ['https://user:pw@push.example.com/x', /credentials/],
    ['https://127.0.0.1/x', /loopback/],
    ['https://localhost/x', /loopback/],
    ['https://10.1.2.3/x', /private/],
    ['https://172.16.0.1/x', /private/],
    ['https://192.168.1.1/x', /private/],
    ['https://169.254.169.254/latest/meta-data', /linkLocal/],
    ['https://100.64.0.1/x', /carrierGradeNat/],
    ['https://0.0.0.0/x', /unspecified/],
    ['https://[::1]/x', /loopback/],
    ['https://[fd00::1]/x', /uniqueLocal/],
    ['https://[fe80::1]/x', /linkLocal/],
    ['https://[::ffff:10.0.0.1]/x', /private/],
    ['https://[64:ff9b::a00:1]/x', /rfc6052/],
    ['https://0x7f.1/x', /loopback/],
    ['https://2130706433/x', /loopback/],
    ['https://metadata.google.internal/x', /public host/],
    ['https://printer.local/x', /public host/],
    ['https://intranet/x', /public host/],
    ['https://x.example.com/' + 'a'.repeat(2100), /2048/],
  ])('refuses %s', (url, why) => {
    expect(checkPublicUrl(url, strict)).toMatch(why);
  });

  it('allows http only to loopback, and only where the deployment says so', () => {
    expect(checkPublicUrl('http://127.0.0.1:8796/push/abc', local)).toBeUndefined();
    expect(checkPublicUrl('http://localhost:8796/push/abc', local)).toBeUndefined();
    expect(checkPublicUrl('http://[::1]:8796/push/abc', local)).toBeUndefined();
    expect(checkPublicUrl('http://127.0.0.1:8796/push/abc', strict)).toMatch(/https/);
    expect(checkPublicUrl('http://push.example.com/x', local)).toMatch(/loopback only/);
    expect(checkPublicUrl('http://10.0.0.1/x', local)).toMatch(/loopback only/);
    expect(checkPublicUrl('https://10.0.0.1/x', local)).toMatch(/private/);
  });
});

describe('Web Push on workerd', () => {
  it('encrypts into one 4096-octet aes128gcm record and signs a VAPID JWT for the endpoint origin', async () => {
    const vapid = { ...(await generateVapidKeys()), subject: 'mailto:ops@beehive.test' };
    expect(await vapidKeysProblem(vapid)).toBeUndefined();
    // A subscription's keys, as a browser would make them.
    const ua = (await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits'])) as CryptoKeyPair;
    const p256dh = new Uint8Array((await crypto.subtle.exportKey('raw', ua.publicKey)) as ArrayBuffer);
    const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    const sub = { endpoint: 'https://push.example.com/wpush/abc', keys: { p256dh: b64(p256dh), auth: b64(crypto.getRandomValues(new Uint8Array(16))) } };

    let seen: { url: string; headers: Headers; body: Uint8Array } | undefined;
    const capture: typeof fetch = async (input, init) => {
      seen = { url: String(input), headers: new Headers(init?.headers), body: new Uint8Array(init?.body as Uint8Array) };
      return new Response(null, { status: 201 });
    };
    expect(await sendWebPush(vapid, sub, '{"type":"message.new"}', { ttl: 0, urgency: 'high', topic: 'abc' }, capture)).toEqual({ status: 201, gone: false });

    const { headers, body } = seen!;
    expect(Object.fromEntries(['ttl', 'urgency', 'topic', 'content-encoding'].map((h) => [h, headers.get(h)]))).toEqual({ ttl: '0', urgency: 'high', topic: 'abc', 'content-encoding': 'aes128gcm' });
    expect(body.length).toBe(4096);
    expect(new DataView(body.buffer, body.byteOffset).getUint32(16)).toBe(4096); // record size
    expect(body[20]).toBe(65); // key id = the sender's ephemeral public key
    expect(body[21]).toBe(0x04);

    const [, jwt, k] = headers.get('authorization')!.match(/^vapid t=([^,]+), k=(.+)$/)!;
    expect(k).toBe(vapid.publicKey);
    const key = await importJWK(p256Jwk(fromBase64url(vapid.publicKey)!), 'ES256');
    const { payload } = await jwtVerify(jwt!, key, { algorithms: ['ES256'], audience: 'https://push.example.com' });
    expect(payload.sub).toBe('mailto:ops@beehive.test');
  });

  it('reports 404 and 410 as gone, 429 as not', async () => {
    const vapid = { ...(await generateVapidKeys()), subject: 'mailto:ops@beehive.test' };
    const sub = { endpoint: 'https://push.example.com/x', keys: { p256dh: vapid.publicKey, auth: 'AAAAAAAAAAAAAAAAAAAAAA' } };
    const answer = (status: number): typeof fetch => async () => new Response('', { status });
    expect(await sendWebPush(vapid, sub, '{}', { ttl: 60 }, answer(410))).toEqual({ status: 410, gone: true });
    expect(await sendWebPush(vapid, sub, '{}', { ttl: 60 }, answer(404))).toEqual({ status: 404, gone: true });
    expect(await sendWebPush(vapid, sub, '{}', { ttl: 60 }, answer(429))).toEqual({ status: 429, gone: false });
  });

  it('reads the configured keys from the Worker env', async () => {
    const keys = vapidKeysOf({ ...env, VAPID_SUBJECT: 'mailto:ops@beehive.test' });
    expect(keys?.publicKey).toBe(env.VAPID_PUBLIC_KEY);
    expect(await vapidKeysProblem(keys!)).toBeUndefined();
    expect(vapidKeysOf({ ...env, VAPID_PRIVATE_KEY: '' })).toBeUndefined();
  });
});

describe('FCM on workerd', () => {
  it('signs an RS256 assertion for the token URI and caches the access token', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
    const sa: ServiceAccount = {
      project_id: 'p',
      private_key_id: 'kid-1',
      private_key: await exportPKCS8(privateKey),
      client_email: `sa-${crypto.randomUUID()}@p.iam.gserviceaccount.com`,
      token_uri: 'https://oauth2.example.com/token',
    };
    const assertions: string[] = [];
    const tokenEndpoint: typeof fetch = async (input, init) => {
      expect(String(input)).toBe(sa.token_uri);
      const form = new URLSearchParams(String(init?.body));
      expect(form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
      assertions.push(form.get('assertion')!);
      return Response.json({ access_token: `tok-${assertions.length}`, expires_in: 3599, token_type: 'Bearer' });
    };
    expect(await fcmAccessToken(sa, tokenEndpoint)).toBe('tok-1');
    expect(await fcmAccessToken(sa, tokenEndpoint)).toBe('tok-1');
    expect(assertions).toHaveLength(1);
    // Five minutes before expiry it asks again.
    expect(await fcmAccessToken(sa, tokenEndpoint, Date.now() + 3300_000)).toBe('tok-2');

    const verifyKey = await importSPKI(await exportSPKI(publicKey), 'RS256');
    const { payload, protectedHeader } = await jwtVerify(assertions[0]!, verifyKey, { algorithms: ['RS256'], issuer: sa.client_email, audience: sa.token_uri });
    expect(protectedHeader.kid).toBe('kid-1');
    expect(payload.scope).toBe('https://www.googleapis.com/auth/firebase.messaging');
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(3600);
  });
});

describe('GET /api/v1/push/vapid-public-key', () => {
  it('is public and serves the configured key', async () => {
    const res = await SELF.fetch('http://beehive.test/api/v1/push/vapid-public-key');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ publicKey: env.VAPID_PUBLIC_KEY });
  });
});

describe('the OpenAPI document', () => {
  it('describes the push and settings routes', async () => {
    const res = await SELF.fetch('http://beehive.test/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths['/api/v1/push/subscriptions'] ?? {}).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths['/api/v1/push/subscriptions/{id}'] ?? {})).toEqual(['delete']);
    expect(Object.keys(doc.paths['/api/v1/push/vapid-public-key'] ?? {})).toEqual(['get']);
    expect(Object.keys(doc.paths['/api/v1/users/me/settings'] ?? {}).sort()).toEqual(['get', 'patch']);
  });
});

describe('messagePushPayload', () => {
  const m = { conversationId: 'c', seq: 4, senderId: 'u', senderName: 'Ann' };
  it('carries a preview only when allowed, cut to 100 graphemes without splitting one', () => {
    expect(messagePushPayload({ ...m, text: 'hi' }, true)).toEqual({ type: 'message.new', ...m, preview: 'hi' });
    expect(messagePushPayload({ ...m, text: 'hi' }, false)).toEqual({ type: 'message.new', ...m });
    expect(messagePushPayload(m, true)).not.toHaveProperty('preview');
    const family = '👨‍👩‍👧';
    const long = messagePushPayload({ ...m, text: family.repeat(150) }, true).preview as string;
    const graphemes = [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(long)].map((g) => g.segment);
    expect(graphemes).toHaveLength(100);
    expect(graphemes.slice(0, 99).every((g) => g === family)).toBe(true);
    expect(graphemes[99]).toBe('…');
    expect(messagePushPayload({ ...m, text: 'x'.repeat(100) }, true).preview).toBe('x'.repeat(100));
  });
});
