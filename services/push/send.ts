/**
 * One push to one device, whichever kind it subscribed with: what the push
 * job calls for each of `subscriptionsOf(db, userId)`, deleting the
 * subscription when the answer says `gone`.
 *
 * Web Push payloads are end-to-end encrypted (only the browser can read them);
 * FCM `data` travels in clear to Google. That is why a preview is the user's
 * choice (`pushPreviews`).
 */
import { fcmConfigOf, sendFcm, type FcmConfig } from './fcm.ts';
import type { PushTarget } from './subscriptions.ts';
import { vapidKeysOf, type VapidKeys } from './vapid.ts';
import { sendWebPush, type PushResult, type Urgency } from './webpush.ts';

export interface PushConfig {
  vapid?: VapidKeys;
  fcm?: FcmConfig;
}

/** What this deployment can send with (from the Worker's env). */
export function pushConfigOf(env: Parameters<typeof vapidKeysOf>[0] & Parameters<typeof fcmConfigOf>[0]): PushConfig {
  return { vapid: vapidKeysOf(env), fcm: fcmConfigOf(env) };
}

export interface PushMessage {
  /** A flat JSON object: the Web Push payload as is; FCM `data` with every value as a string. */
  payload: Record<string, string | number | boolean>;
  /** Seconds the push service may hold it for an offline device. */
  ttl: number;
  urgency?: Urgency;
  /** Collapses an undelivered older push of the same topic: `pushTopic(conversationId)`. */
  topic?: string;
}

/** The longest preview a push carries (API.md § Push notifications), in user-perceived characters. */
export const PREVIEW_MAX_CHARS = 100;

/**
 * The payload of a push for a new message (API.md): `preview` only where the
 * recipient allows previews and there is text, cut to 100 graphemes (an emoji
 * or accented letter is never split) with an ellipsis when cut.
 */
export function messagePushPayload(
  m: { conversationId: string; seq: number; senderId: string; senderName: string; text?: string },
  previews: boolean,
): Record<string, string | number> {
  const payload: Record<string, string | number> = { type: 'message.new', conversationId: m.conversationId, seq: m.seq, senderId: m.senderId, senderName: m.senderName };
  if (previews && m.text) payload.preview = truncate(m.text, PREVIEW_MAX_CHARS);
  return payload;
}

function truncate(text: string, max: number): string {
  const graphemes = [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text)].map((g) => g.segment);
  return graphemes.length <= max ? text : graphemes.slice(0, max - 1).join('') + '…';
}

/** Sends `msg` to `target`; rejects if the kind is not configured or the request could not be made. */
export async function sendPush(cfg: PushConfig, target: PushTarget, msg: PushMessage, fetcher: typeof fetch = fetch): Promise<PushResult> {
  if (target.kind === 'webpush') {
    if (!cfg.vapid) throw new Error('Web Push is not configured (VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY, VAPID_SUBJECT)');
    const opts = { ttl: msg.ttl, ...(msg.urgency ? { urgency: msg.urgency } : {}), ...(msg.topic ? { topic: msg.topic } : {}) };
    return sendWebPush(cfg.vapid, target, JSON.stringify(msg.payload), opts, fetcher);
  }
  if (!cfg.fcm) throw new Error('FCM is not configured (FCM_SERVICE_ACCOUNT)');
  const data = Object.fromEntries(Object.entries(msg.payload).map(([k, v]) => [k, String(v)]));
  const { status, gone } = await sendFcm(
    cfg.fcm,
    {
      token: target.token,
      data,
      android: {
        // FCM has two Android priorities; Web Push's four urgencies map onto them.
        priority: msg.urgency === 'high' ? 'high' : 'normal',
        ttl: `${msg.ttl}s`,
        ...(msg.topic ? { collapse_key: msg.topic } : {}),
      },
      // APNs priority and push type depend on whether the app shows an alert, which a data message leaves to the app.
      ...(msg.topic ? { apns: { headers: { 'apns-collapse-id': msg.topic } } } : {}),
    },
    fetcher,
  );
  return { status, gone };
}
