/**
 * /api/v1/conversations/:id/webhooks — outgoing webhooks, held by the
 * ConversationDO (durable-objects/conversation/webhooks.ts), which is the
 * ordered outbox that delivers them. Managed by a group's owner or admins,
 * or either member of a single chat (403 `forbidden` for a plain member).
 * The secret is shown at creation and rotation only.
 *
 * Codes beyond API.md: 409 `webhook_limit` (10 per conversation).
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { errors, jsonBody, jsonResponse } from '../../protocol/common.ts';
import { ConversationParams } from '../../protocol/conversations.ts';
import { CreateWebhookBody, DeliveriesQuery, DeliveryPage, SecretResponse, WebhookCreated, WebhookPage, WebhookParams } from '../../protocol/integrations.ts';
import { asMember } from '../conversations/actors.ts';
import type { AppEnv } from '../context.ts';
import { requireAuth } from '../middleware/auth.ts';
import { defaultHook } from '../validation.ts';

const base = { tags: ['webhooks'], security: [{ bearerAuth: [] }], middleware: [requireAuth] };

const create = createRoute({
  ...base, method: 'post', path: '/{id}/webhooks', summary: 'Register a webhook: it receives what is appended from now on, in seq order, signed',
  description: 'The URL must be https to a public host (plain http to loopback only where WEBHOOK_ALLOW_HTTP_LOOPBACK is set). `events` defaults to both.',
  request: { params: ConversationParams, body: jsonBody(CreateWebhookBody) },
  responses: { 201: jsonResponse(WebhookCreated, 'Registered; the secret is shown only here'), ...errors(400, 401, 403, 404, 409, 413) },
});
const list = createRoute({
  ...base, method: 'get', path: '/{id}/webhooks', summary: 'The conversation’s webhooks (without secrets)',
  request: { params: ConversationParams },
  responses: { 200: jsonResponse(WebhookPage, 'Oldest first'), ...errors(401, 403, 404) },
});
const remove = createRoute({
  ...base, method: 'delete', path: '/{id}/webhooks/{wid}', summary: 'Delete a webhook: nothing more is sent to it',
  request: { params: WebhookParams },
  responses: { 204: { description: 'Deleted' }, ...errors(401, 403, 404) },
});
const rotate = createRoute({
  ...base, method: 'post', path: '/{id}/webhooks/{wid}/rotate-secret', summary: 'A new signing secret; for 24 h deliveries carry signatures by both',
  request: { params: WebhookParams },
  responses: { 200: jsonResponse(SecretResponse, 'The new secret (shown only here)'), ...errors(401, 403, 404) },
});
const deliveries = createRoute({
  ...base, method: 'get', path: '/{id}/webhooks/{wid}/deliveries', summary: 'The delivery log, newest first (the last 1,000 are kept)',
  request: { params: WebhookParams, query: DeliveriesQuery },
  responses: { 200: jsonResponse(DeliveryPage, 'A page of deliveries'), ...errors(400, 401, 403, 404) },
});

const stub = (env: Env, id: string) => env.CONVERSATIONS.getByName(id);

export const webhookRoutes = new OpenAPIHono<AppEnv>({ defaultHook })
  .openapi(create, async (c) => {
    const { id } = c.req.valid('param');
    const me = c.var.auth.userId;
    const body = c.req.valid('json');
    const { webhook, secret } = await asMember(c, id, () => stub(c.env, id).addWebhook(me, body));
    c.var.log('webhook.created', { userId: me, conversationId: id, webhookId: webhook.id });
    return c.json({ ...webhook, secret }, 201);
  })
  .openapi(list, async (c) => {
    const { id } = c.req.valid('param');
    const me = c.var.auth.userId;
    const { items } = await asMember(c, id, () => stub(c.env, id).listWebhooks(me));
    return c.json({ items, nextCursor: null }, 200);
  })
  .openapi(remove, async (c) => {
    const { id, wid } = c.req.valid('param');
    const me = c.var.auth.userId;
    await asMember(c, id, () => stub(c.env, id).deleteWebhook(me, wid));
    return c.body(null, 204);
  })
  .openapi(rotate, async (c) => {
    const { id, wid } = c.req.valid('param');
    const me = c.var.auth.userId;
    const { secret } = await asMember(c, id, () => stub(c.env, id).rotateWebhookSecret(me, wid));
    c.var.log('webhook.rotated', { userId: me, conversationId: id, webhookId: wid });
    return c.json({ secret }, 200);
  })
  .openapi(deliveries, async (c) => {
    const { id, wid } = c.req.valid('param');
    const { limit, cursor } = c.req.valid('query');
    const me = c.var.auth.userId;
    const page = await asMember(c, id, () => stub(c.env, id).webhookDeliveries(me, wid, { limit, ...(cursor ? { beforeSeq: Number(cursor) } : {}) }));
    return c.json({ items: page.items, nextCursor: page.nextCursor }, 200);
  });
