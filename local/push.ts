/**
 * The local push service: an RFC 8030 push service with the user agent's side
 * built in, and FCM HTTP v1 (local/push-fcm.ts). The Worker reaches it only
 * through configuration: the endpoints of the subscriptions it mints, and the
 * service-account JSON (`token_uri`) plus `FCM_API_URL`.
 *
 * Web Push
 * - `POST /subscriptions` `{applicationServerKey?}` → 201 `{endpoint, keys: {p256dh, auth}}`: a fresh
 *   P-256 key pair and auth secret whose private half stays here; with an `applicationServerKey`, pushes
 *   signed by any other VAPID key get 403 (RFC 8292 §4.2).
 * - `POST /push/<id>` (the endpoint): `TTL` (required), `Urgency`, `Topic`, `Content-Encoding: aes128gcm`,
 *   `Authorization: vapid t=…, k=…` → 201 + `Location`. 401 for a missing or bad VAPID JWT, 400 for bad
 *   headers or a body that does not decrypt, 413 over 4096 bytes, 404 unknown, 410 gone. Nothing refused
 *   is listed.
 * - `POST /subscriptions/gone {endpoint}` → 204: the endpoint answers 410 from then on.
 *
 * Both
 * - `GET /push-inbox?endpoint=<endpoint>` or `?fcmToken=<token>` → `{messages: [{payload, topic?, urgency?,
 *   ttl, receivedAt}]}`, newest last: the device's undelivered queue (local/push-inbox.ts); a newer message
 *   of the same topic has replaced an older one. `DELETE /push-inbox?…` → 204 empties it (the device came
 *   online and took them).
 *
 * State is in memory: a restart forgets subscriptions, and pushes to them then get 404 (gone), as a real
 * push service answers for subscriptions it no longer knows.
 */
import http from 'node:http';
import { createECDH, randomBytes } from 'node:crypto';
import { readBody, readJson, sendJson } from './http.ts';
import { decryptPush, verifyVapid, type UaKeys } from './push-crypto.ts';
import { createFcmStandIn, type ServiceAccountJson } from './push-fcm.ts';
import { Inbox } from './push-inbox.ts';

export type { ServiceAccountJson } from './push-fcm.ts';
export type { InboxEntry } from './push-inbox.ts';

export interface PushService {
  url: string;
  /** The FCM service account whose key this service knows: hand it to the Worker as `FCM_SERVICE_ACCOUNT`. */
  serviceAccount: ServiceAccountJson;
  /** OAuth token requests answered since start. */
  readonly fcmTokenRequests: number;
  close(): Promise<void>;
}

interface Subscription extends UaKeys {
  endpoint: string;
  /** The VAPID key the subscription was created for, if any (base64url). */
  applicationServerKey?: string;
  gone: boolean;
}

/** RFC 8030 §7.2: a push service must accept 4096 octets of payload body, and may refuse more. */
const MAX_BODY = 4096;
const TOPIC = /^[A-Za-z0-9_-]{1,32}$/;
const URGENCIES = new Set(['very-low', 'low', 'normal', 'high']);

export async function startPushService(opts: {
  port: number;
  host?: string;
  log?: (e: Record<string, unknown>) => void;
  /** Lifetime of FCM access tokens (default 3599 s, as Google's). */
  fcmTokenTtlSeconds?: number;
}): Promise<PushService> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? (() => {});
  const inbox = new Inbox();
  const subscriptions = new Map<string, Subscription>(); // by id (the endpoint's last segment)
  // Both known once the server listens (the port may be 0: any free one).
  let baseUrl = '';
  let fcm: Awaited<ReturnType<typeof createFcmStandIn>> | undefined;

  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', `http://${host}`);
      const route = `${req.method} ${url.pathname}`;
      const pushId = req.method === 'POST' ? url.pathname.match(/^\/push\/([A-Za-z0-9_-]+)$/)?.[1] : undefined;
      if (route === 'POST /subscriptions') return await subscribe(req, res);
      if (route === 'POST /subscriptions/gone') return await markGone(req, res);
      if (pushId) return await receive(req, res, pushId);
      if (url.pathname === '/push-inbox' && (req.method === 'GET' || req.method === 'DELETE')) return readInbox(req, res, url);
      if (fcm && (await fcm.handle(req, res, url))) return;
      sendJson(res, 404, { error: 'not found' });
    } catch (err) {
      log({ event: 'push.error', error: String(err) });
      if (!res.headersSent) sendJson(res, 500, { error: String(err) });
    }
  });

  async function subscribe(req: http.IncomingMessage, res: http.ServerResponse) {
    const body = (await readJson(req)) as { applicationServerKey?: unknown } | undefined;
    const ecdh = createECDH('prime256v1');
    const publicKey = ecdh.generateKeys();
    const id = randomBytes(24).toString('base64url');
    const sub: Subscription = {
      endpoint: `${baseUrl}/push/${id}`,
      ecdh,
      publicKey,
      auth: randomBytes(16),
      gone: false,
      ...(typeof body?.applicationServerKey === 'string' ? { applicationServerKey: body.applicationServerKey } : {}),
    };
    subscriptions.set(id, sub);
    inbox.open(`web:${sub.endpoint}`);
    sendJson(res, 201, { endpoint: sub.endpoint, keys: { p256dh: publicKey.toString('base64url'), auth: sub.auth.toString('base64url') } });
  }

  async function markGone(req: http.IncomingMessage, res: http.ServerResponse) {
    const body = (await readJson(req)) as { endpoint?: unknown } | undefined;
    const sub = typeof body?.endpoint === 'string' ? subscriptionAt(body.endpoint) : undefined;
    if (!sub) return sendJson(res, 404, { error: 'unknown endpoint' });
    sub.gone = true;
    res.writeHead(204).end();
  }

  async function receive(req: http.IncomingMessage, res: http.ServerResponse, id: string) {
    const refuse = (status: number, reason: string) => {
      log({ event: 'push.refused', status, reason });
      sendJson(res, status, { reason });
    };
    const sub = subscriptions.get(id);
    if (!sub) return refuse(404, 'no such subscription');
    if (sub.gone) return refuse(410, 'the subscription has expired or been unsubscribed');
    const body = await readBody(req);
    if (body.length > MAX_BODY) return refuse(413, `payload over ${MAX_BODY} bytes`);

    const vapid = await verifyVapid(header(req, 'authorization'), new URL(sub.endpoint).origin);
    if ('error' in vapid) return refuse(401, vapid.error);
    if (sub.applicationServerKey && vapid.key !== sub.applicationServerKey.replace(/=+$/, '')) return refuse(403, 'VAPID key is not the one this subscription was created for');

    const ttlText = header(req, 'ttl');
    if (!ttlText || !/^\d+$/.test(ttlText)) return refuse(400, 'TTL header required: a non-negative integer');
    const urgency = header(req, 'urgency');
    if (urgency !== undefined && !URGENCIES.has(urgency)) return refuse(400, `invalid Urgency ${urgency}`);
    const topic = header(req, 'topic');
    if (topic !== undefined && !TOPIC.test(topic)) return refuse(400, 'Topic must be 1–32 base64url characters');
    if (header(req, 'content-encoding')?.toLowerCase() !== 'aes128gcm') return refuse(400, 'Content-Encoding must be aes128gcm');

    const plaintext = decryptPush(body, sub);
    if (typeof plaintext === 'string') return refuse(400, plaintext);
    const text = plaintext.toString('utf8');
    let payload: unknown = text;
    try {
      payload = JSON.parse(text);
    } catch {
      /* not JSON: listed as the text */
    }
    inbox.add(`web:${sub.endpoint}`, {
      payload,
      ...(topic ? { topic } : {}),
      ...(urgency ? { urgency } : {}),
      ttl: Number(ttlText),
      receivedAt: new Date().toISOString(),
    });
    log({ event: 'push.received', endpoint: sub.endpoint, topic });
    res.writeHead(201, { location: `${baseUrl}/message/${randomBytes(16).toString('base64url')}`, 'content-length': '0' }).end();
  }

  function readInbox(req: http.IncomingMessage, res: http.ServerResponse, url: URL) {
    const endpoint = url.searchParams.get('endpoint');
    const token = url.searchParams.get('fcmToken');
    const device = endpoint ? `web:${endpoint}` : token ? `fcm:${token}` : undefined;
    if (!device) return sendJson(res, 400, { error: 'endpoint or fcmToken is required' });
    const messages = inbox.list(device);
    if (!messages) return sendJson(res, 404, { error: 'unknown endpoint or token' });
    if (req.method === 'GET') return sendJson(res, 200, { messages });
    inbox.clear(device);
    res.writeHead(204).end();
  }

  function subscriptionAt(endpoint: string): Subscription | undefined {
    const id = endpoint.startsWith(`${baseUrl}/push/`) ? endpoint.slice(`${baseUrl}/push/`.length) : undefined;
    return id ? subscriptions.get(id) : undefined;
  }

  function header(req: http.IncomingMessage, name: string): string | undefined {
    const value = req.headers[name];
    return Array.isArray(value) ? value[0] : value;
  }

  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(opts.port, host, resolve));
  baseUrl = `http://${host}:${(server.address() as { port: number }).port}`;
  fcm = await createFcmStandIn({ url: baseUrl, inbox, tokenTtlSeconds: opts.fcmTokenTtlSeconds });

  return {
    url: baseUrl,
    serviceAccount: fcm.serviceAccount,
    get fcmTokenRequests() {
      return fcm!.tokenRequests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
