/** /api/v1/push — the VAPID public key, and my devices' push subscriptions (Web Push or FCM). */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { uuidv7 } from '../../lib/ids.ts';
import { errors, jsonBody, jsonResponse } from '../../protocol/common.ts';
import { SubscriptionBody, SubscriptionPage, Subscription, VapidPublicKey } from '../../protocol/push.ts';
import { IdParam, PageQuery } from '../../protocol/social.ts';
import { fcmConfigOf } from '../../services/push/fcm.ts';
import { authSecretProblem, p256PublicKeyProblem } from '../../services/push/keys.ts';
import {
  deleteSubscriptionOf,
  listSubscriptions,
  MAX_SUBSCRIPTIONS_PER_USER,
  saveSubscription,
  type SubscriptionRow,
} from '../../services/push/subscriptions.ts';
import { vapidKeysOf } from '../../services/push/vapid.ts';
import { checkPublicUrl, urlRuleOf } from '../../services/safe-url.ts';
import { uniqueViolation } from '../accounts/users.ts';
import type { AppEnv } from '../context.ts';
import { ApiError } from '../errors.ts';
import { requireAuth } from '../middleware/auth.ts';
import { decodeCursor, pageOf } from '../social/cursor.ts';
import { defaultHook } from '../validation.ts';

const authed = { tags: ['push'], security: [{ bearerAuth: [] }], middleware: [requireAuth] };

const vapidKey = createRoute({
  operationId: 'getVapidPublicKey', security: [], method: 'get', path: '/vapid-public-key', tags: ['push'], summary: 'The server’s VAPID public key (public)',
  responses: { 200: jsonResponse(VapidPublicKey, 'base64url, for PushManager.subscribe'), ...errors(503) },
});
const subscribe = createRoute({
  ...authed, operationId: 'subscribePush', method: 'post', path: '/subscriptions', summary: 'Subscribe this device to push (replaces its previous subscription)',
  description: `Web Push endpoints must be \`https\` on a public host. At most ${MAX_SUBSCRIPTIONS_PER_USER} devices per user.`,
  request: { body: jsonBody(SubscriptionBody) },
  responses: { 201: jsonResponse(Subscription, 'Subscribed'), ...errors(400, 401, 409, 413) },
});
const list = createRoute({
  ...authed, operationId: 'listPushSubscriptions', method: 'get', path: '/subscriptions', summary: 'My devices’ subscriptions, oldest first',
  request: { query: PageQuery },
  responses: { 200: jsonResponse(SubscriptionPage, 'A page of subscriptions'), ...errors(400, 401) },
});
const remove = createRoute({
  ...authed, operationId: 'deletePushSubscription', method: 'delete', path: '/subscriptions/{id}', summary: 'Unsubscribe a device of mine',
  request: { params: IdParam },
  responses: { 204: { description: 'Unsubscribed' }, ...errors(400, 401, 404) },
});

const view = (row: SubscriptionRow): Subscription => ({ id: row.id, deviceId: row.deviceId, kind: row.kind, createdAt: row.createdAt.toISOString() });

/** The checks zod cannot make: the URL rule, the key on the curve, and whether this server is configured for the kind. */
async function subscriptionProblem(env: Env, body: SubscriptionBody): Promise<string | undefined> {
  if (body.kind === 'fcm') return fcmConfigOf(env) ? undefined : 'kind: FCM is not configured on this server';
  if (!vapidKeysOf(env)) return 'kind: Web Push is not configured on this server';
  const endpoint = checkPublicUrl(body.endpoint, urlRuleOf(env));
  if (endpoint) return `endpoint: ${endpoint}`;
  const p256dh = await p256PublicKeyProblem(body.keys.p256dh);
  if (p256dh) return `keys.p256dh: ${p256dh}`;
  const auth = authSecretProblem(body.keys.auth);
  return auth ? `keys.auth: ${auth}` : undefined;
}

export const pushRoutes = new OpenAPIHono<AppEnv>({ defaultHook })
  .openapi(vapidKey, (c) => {
    const vapid = vapidKeysOf(c.env);
    if (!vapid) throw new ApiError('unavailable', 'Web Push is not configured on this server');
    return c.json({ publicKey: vapid.publicKey }, 200);
  })
  .openapi(subscribe, async (c) => {
    const me = c.var.auth.userId;
    const body = c.req.valid('json');
    const problem = await subscriptionProblem(c.env, body);
    if (problem) throw new ApiError('validation_failed', problem);
    const now = new Date();
    let saved: Awaited<ReturnType<typeof saveSubscription>>;
    try {
      saved = await saveSubscription(c.var.pg.db, me, uuidv7(now.getTime()), body, now);
    } catch (err) {
      // Another user registering the same endpoint or token at this very moment.
      if (uniqueViolation(err)) throw new ApiError('conflict', 'This endpoint or token is being registered concurrently; retry');
      throw err;
    }
    if (saved === 'limit') throw new ApiError('subscription_limit', `At most ${MAX_SUBSCRIPTIONS_PER_USER} devices can be subscribed; remove one first`);
    // The UserDO decides who gets a push: it reads the user's subscribed devices again.
    await c.env.USERS.getByName(me).pushDevicesChanged();
    c.var.log('push.subscribed', { userId: me, deviceId: body.deviceId, kind: body.kind, subscriptionId: saved.id });
    return c.json(view(saved), 201);
  })
  .openapi(list, async (c) => {
    const { limit, cursor } = c.req.valid('query');
    const after = decodeCursor(cursor, 1)?.[0];
    const rows = await listSubscriptions(c.var.pg.db, c.var.auth.userId, limit, after);
    return c.json(pageOf(rows, limit, (r) => [r.id], view), 200);
  })
  .openapi(remove, async (c) => {
    // Someone else's subscription answers exactly like a missing one.
    if (!(await deleteSubscriptionOf(c.var.pg.db, c.var.auth.userId, c.req.valid('param').id))) throw new ApiError('not_found', 'No such subscription');
    await c.env.USERS.getByName(c.var.auth.userId).pushDevicesChanged();
    return c.body(null, 204);
  });
