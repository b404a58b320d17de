/**
 * The push job (QStash → /internal/jobs/push): one message for one user, to
 * the devices the user's UserDO found subscribed and without an open socket.
 * It reads the message from its ConversationDO as that user (so a recall
 * before the push, or a departure, sends nothing), builds the payload
 * (preview only where the user allows it), and sends to each device. A
 * device the push service reports gone loses its subscription. Any other
 * failure answers 500, and QStash retries: a repeat replaces the earlier push
 * of the same conversation (Topic), so it is harmless.
 */
import { isGone, type Message } from '../../protocol/messages.ts';
import { pushConfigOf, sendPush, messagePushPayload } from '../../services/push/send.ts';
import { deleteSubscription, subscriptionsOf } from '../../services/push/subscriptions.ts';
import { pushTopic } from '../../services/push/webpush.ts';
import { pushPreviewsOf } from '../../services/settings.ts';
import type { Database } from '../../services/db.ts';
import type { Logger } from '../../lib/log.ts';
import { getProfile } from '../social/profiles.ts';

/** A day: a phone that comes back later gets the conversation from sync, not from a stale push. */
const PUSH_TTL_SECONDS = 86_400;

export interface PushJob {
  userId: string;
  conversationId: string;
  seq: number;
  deviceIds: string[];
}

/** What a preview says for a message that is not text. */
function previewText(m: Message): string | undefined {
  if (m.type === 'text') return typeof m.content === 'string' ? m.content : undefined;
  const c = (m.content ?? {}) as { caption?: string; name?: string };
  return c.caption ?? c.name ?? ({ image: '[image]', voice: '[voice]', file: '[file]' } as const)[m.type];
}

export async function runPushJob(env: Env, db: Database, log: Logger, job: PushJob): Promise<{ sent: number; failed: number; gone: number }> {
  const targets = (await subscriptionsOf(db, job.userId)).filter((t) => job.deviceIds.includes(t.deviceId));
  if (targets.length === 0) return { sent: 0, failed: 0, gone: 0 };
  const page = await env.CONVERSATIONS.getByName(job.conversationId).history(job.userId, { afterSeq: job.seq - 1, limit: 1 });
  const message = page.ok ? page.items[0] : undefined;
  if (!message || message.seq !== job.seq || isGone(message)) return { sent: 0, failed: 0, gone: 0 };
  const [sender, previews] = await Promise.all([getProfile({ env, db, log }, message.senderId), pushPreviewsOf(db, job.userId)]);
  const payload = messagePushPayload(
    { conversationId: job.conversationId, seq: job.seq, senderId: message.senderId, senderName: sender?.nickname ?? sender?.username ?? 'Someone', text: previewText(message) },
    previews,
  );
  const msg = { payload, ttl: PUSH_TTL_SECONDS, urgency: 'high' as const, topic: await pushTopic(job.conversationId) };
  const cfg = pushConfigOf(env);
  let sent = 0;
  let failed = 0;
  let gone = 0;
  await Promise.all(
    targets.map(async (t) => {
      try {
        const r = await sendPush(cfg, t, msg);
        if (r.gone) {
          gone++;
          await deleteSubscription(db, t.id);
        } else if (r.status >= 200 && r.status < 300) sent++;
        else failed++;
      } catch (err) {
        failed++;
        log('push.send_failed', { userId: job.userId, deviceId: t.deviceId, kind: t.kind, error: String(err) });
      }
    }),
  );
  if (gone) await env.USERS.getByName(job.userId).pushDevicesChanged();
  return { sent, failed, gone };
}
