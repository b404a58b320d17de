/**
 * Web Push: one push message to one browser subscription (RFC 8030), its
 * payload encrypted for the subscription's keys (RFC 8291, `aes128gcm`) and
 * the request signed with VAPID (RFC 8292). Runs on Web Crypto: workerd and
 * Node 22 alike.
 *
 * Encryption is `@block65/webcrypto-web-push`'s `encryptNotification` (it pads
 * every message to one 4096-octet record, so the length says nothing about the
 * text). Its request builder is not used: it refuses non-`https` endpoints
 * (which subscription validation already governs, services/safe-url.ts) and
 * sends `TTL: 60` when asked for 0.
 */
import { encryptNotification } from '@block65/webcrypto-web-push';
import { toBase64url } from './keys.ts';
import { vapidAuthorization, type VapidKeys } from './vapid.ts';

export interface WebPushSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/** RFC 8030 §5.3. */
export type Urgency = 'very-low' | 'low' | 'normal' | 'high';

export interface WebPushOptions {
  /** Seconds the push service keeps the message for an offline device (RFC 8030 §5.2); 0 = now or never. */
  ttl: number;
  urgency?: Urgency;
  /** Replaces an undelivered message of the same topic (RFC 8030 §5.4): see `pushTopic`. */
  topic?: string;
}

/** What the push service answered. `gone`: the subscription no longer exists (404/410): delete it. */
export interface PushResult {
  status: number;
  gone: boolean;
}

/** RFC 8030 §5.4: at most 32 characters of the URL- and filename-safe base64 alphabet. */
const TOPIC = /^[A-Za-z0-9_-]{1,32}$/;
const URGENCIES = new Set<string>(['very-low', 'low', 'normal', 'high']);
/** The largest payload one 4096-octet record holds (the library pads every message to it). */
export const WEB_PUSH_MAX_PAYLOAD_BYTES = 3993;

/**
 * Sends `payload` (a string, typically JSON) to `sub`. Resolves with the push
 * service's status whatever it was (201 on success; 429/5xx are the caller's
 * to retry); rejects only when the request could not be made (network, bad
 * arguments).
 */
export async function sendWebPush(
  vapid: VapidKeys,
  sub: WebPushSubscription,
  payload: string,
  opts: WebPushOptions,
  fetcher: typeof fetch = fetch,
): Promise<PushResult> {
  if (!Number.isInteger(opts.ttl) || opts.ttl < 0) throw new TypeError(`ttl must be a non-negative integer, got ${opts.ttl}`);
  if (opts.topic !== undefined && !TOPIC.test(opts.topic)) throw new TypeError('topic must be 1–32 base64url characters (see pushTopic)');
  if (opts.urgency !== undefined && !URGENCIES.has(opts.urgency)) throw new TypeError(`unknown urgency ${opts.urgency}`);
  const plaintext = new TextEncoder().encode(payload);
  if (plaintext.length > WEB_PUSH_MAX_PAYLOAD_BYTES) throw new TypeError(`payload is ${plaintext.length} bytes, at most ${WEB_PUSH_MAX_PAYLOAD_BYTES} fit`);

  const body = await encryptNotification({ endpoint: sub.endpoint, expirationTime: null, keys: sub.keys }, plaintext);
  const headers: Record<string, string> = {
    authorization: await vapidAuthorization(vapid, sub.endpoint),
    'content-encoding': 'aes128gcm',
    'content-type': 'application/octet-stream',
    ttl: String(opts.ttl),
  };
  if (opts.urgency) headers.urgency = opts.urgency;
  if (opts.topic) headers.topic = opts.topic;

  const res = await fetcher(sub.endpoint, { method: 'POST', headers, body });
  // Drain the answer so the connection is reused (workerd holds it otherwise).
  await res.arrayBuffer().catch(() => undefined);
  return { status: res.status, gone: res.status === 404 || res.status === 410 };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A valid RFC 8030 `Topic` for a conversation, so a newer push of the same
 * conversation replaces an undelivered older one. A UUID becomes its 32 hex
 * digits (one-to-one, readable); any other id is hashed (SHA-256, 24 bytes,
 * 32 base64url characters). Topics are visible to the push service, so they
 * carry no more than the id.
 */
export async function pushTopic(conversationId: string): Promise<string> {
  if (UUID.test(conversationId)) return conversationId.replace(/-/g, '').toLowerCase();
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(conversationId)));
  return toBase64url(digest.subarray(0, 24));
}
