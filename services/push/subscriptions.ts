/**
 * Push subscriptions in Postgres: what the subscription routes write, and what
 * the push job reads (`subscriptionsOf`) and prunes (`deleteSubscription`
 * when a push service reports one gone).
 */
import { and, asc, eq, gt, ne, or, sql } from 'drizzle-orm';
import { pushSubscriptions } from '../../db/schema.ts';
import type { Db as Database } from '../../db/client.ts';

export type SubscriptionRow = typeof pushSubscriptions.$inferSelect;

/** Devices one user may have subscribed at once: every push fans out to all of them. */
export const MAX_SUBSCRIPTIONS_PER_USER = 20;

/** A new or replacing subscription, already validated (protocol/push.ts, services/safe-url.ts). */
export type NewSubscription =
  | { deviceId: string; kind: 'webpush'; endpoint: string; keys: { p256dh: string; auth: string } }
  | { deviceId: string; kind: 'fcm'; token: string };

/** Where to send one push: what the senders (webpush.ts, fcm.ts) take. */
export type PushTarget =
  | { id: string; userId: string; deviceId: string; kind: 'webpush'; endpoint: string; keys: { p256dh: string; auth: string } }
  | { id: string; userId: string; deviceId: string; kind: 'fcm'; token: string };

/**
 * Stores `sub` for (`userId`, its device) under the new `id`, replacing that
 * device's previous subscription, and taking the endpoint or token away from
 * any other (user, device) that held it. `'limit'` if the user already has
 * `MAX_SUBSCRIPTIONS_PER_USER` other devices.
 */
export async function saveSubscription(db: Database, userId: string, id: string, sub: NewSubscription, now: Date): Promise<SubscriptionRow | 'limit'> {
  const values = {
    id,
    userId,
    deviceId: sub.deviceId,
    kind: sub.kind,
    endpoint: sub.kind === 'webpush' ? sub.endpoint : null,
    p256dh: sub.kind === 'webpush' ? sub.keys.p256dh : null,
    auth: sub.kind === 'webpush' ? sub.keys.auth : null,
    fcmToken: sub.kind === 'fcm' ? sub.token : null,
    createdAt: now,
  };
  return db.transaction(async (tx) => {
    // One registration per user at a time, so the device count below cannot be raced past the limit.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`push:${userId}`}, 0))`);
    const sameTarget = sub.kind === 'webpush' ? eq(pushSubscriptions.endpoint, sub.endpoint) : eq(pushSubscriptions.fcmToken, sub.token);
    await tx
      .delete(pushSubscriptions)
      .where(and(sameTarget, or(ne(pushSubscriptions.userId, userId), ne(pushSubscriptions.deviceId, sub.deviceId))));
    const others = await tx
      .select({ n: sql<number>`count(*)::int` })
      .from(pushSubscriptions)
      .where(and(eq(pushSubscriptions.userId, userId), ne(pushSubscriptions.deviceId, sub.deviceId)));
    if ((others[0]?.n ?? 0) >= MAX_SUBSCRIPTIONS_PER_USER) return 'limit';
    const [row] = await tx
      .insert(pushSubscriptions)
      .values(values)
      .onConflictDoUpdate({ target: [pushSubscriptions.userId, pushSubscriptions.deviceId], set: values })
      .returning();
    return row!;
  });
}

/** A page of the user's subscriptions, oldest first (ids are UUIDv7, so by id), after `afterId`; `limit + 1` rows tell whether more follow. */
export async function listSubscriptions(db: Database, userId: string, limit: number, afterId?: string): Promise<SubscriptionRow[]> {
  return db
    .select()
    .from(pushSubscriptions)
    .where(and(eq(pushSubscriptions.userId, userId), afterId ? gt(pushSubscriptions.id, afterId) : undefined))
    .orderBy(asc(pushSubscriptions.id))
    .limit(limit + 1);
}

/** Every device of `userId` that can be woken by push. */
export async function subscriptionsOf(db: Database, userId: string): Promise<PushTarget[]> {
  const rows = await db.select().from(pushSubscriptions).where(eq(pushSubscriptions.userId, userId)).orderBy(asc(pushSubscriptions.id));
  return rows.flatMap((r): PushTarget[] => {
    const common = { id: r.id, userId: r.userId, deviceId: r.deviceId };
    if (r.kind === 'webpush' && r.endpoint && r.p256dh && r.auth) return [{ ...common, kind: 'webpush', endpoint: r.endpoint, keys: { p256dh: r.p256dh, auth: r.auth } }];
    if (r.kind === 'fcm' && r.fcmToken) return [{ ...common, kind: 'fcm', token: r.fcmToken }];
    return [];
  });
}

/**
 * Deletes subscription `id` (the push service said it is gone). Idempotent; a
 * device that re-subscribed meanwhile has a new id and is not touched.
 */
export async function deleteSubscription(db: Database, id: string): Promise<boolean> {
  const rows = await db.delete(pushSubscriptions).where(eq(pushSubscriptions.id, id)).returning({ id: pushSubscriptions.id });
  return rows.length > 0;
}

/** Deletes subscription `id` if it is `userId`'s (the DELETE route); false if there is no such subscription of theirs. */
export async function deleteSubscriptionOf(db: Database, userId: string, id: string): Promise<boolean> {
  const rows = await db
    .delete(pushSubscriptions)
    .where(and(eq(pushSubscriptions.id, id), eq(pushSubscriptions.userId, userId)))
    .returning({ id: pushSubscriptions.id });
  return rows.length > 0;
}
