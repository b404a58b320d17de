/** Request and response shapes of the integration routes (API.md § Integrations: webhooks and bots). */
import { z } from '@hono/zod-openapi';
import { Nickname, User, Username } from './accounts.ts';
import { Id, Text } from './common.ts';
import { ConversationParams } from './conversations.ts';

export const HookEvent = z.enum(['message.new', 'conversation.event']);
const Url = Text().min(1).max(2048).openapi({ example: 'https://hooks.example.com/beehive' });
const Time = z.string().openapi({ example: '2026-11-22T04:55:00.123Z' });
const Secret = z.string().openapi({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', description: 'Standard Webhooks signing secret' });

export const CreateWebhookBody = z
  .strictObject({ url: Url, events: z.array(HookEvent).min(1).max(2).default(['message.new', 'conversation.event']) })
  .openapi('CreateWebhookBody');

export const Webhook = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(HookEvent),
    createdBy: z.string(),
    createdAt: Time,
    createdAfterSeq: z.number().int().openapi({ description: 'It receives the entries after this seq' }),
    disabledAt: Time.optional().openapi({ description: 'Switched off after failing for a day' }),
    failingSince: Time.optional(),
  })
  .openapi('Webhook');
export const WebhookCreated = Webhook.extend({ secret: Secret }).openapi('WebhookCreated');
export const WebhookPage = z.object({ items: z.array(Webhook), nextCursor: z.null() }).openapi('WebhookPage');
export const SecretResponse = z.object({ secret: Secret });

export const WebhookParams = ConversationParams.extend({ wid: Id.openapi({ param: { name: 'wid', in: 'path' } }) });
export const DeliveriesQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: Text().regex(/^\d{1,15}$/, 'not a cursor from nextCursor').optional(),
});
export const Delivery = z
  .object({
    id: z.string().openapi({ description: 'The webhook-id header of every attempt' }),
    seq: z.number().int(),
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number().int(),
    lastStatus: z.number().int().optional(),
    lastError: z.string().optional(),
    deliveredAt: Time.optional(),
    nextAttemptAt: Time.optional(),
  })
  .openapi('WebhookDelivery');
export const DeliveryPage = z.object({ items: z.array(Delivery), nextCursor: z.string().nullable() }).openapi('WebhookDeliveryPage');

export const CreateBotBody = z.strictObject({ username: Username, nickname: Nickname.optional(), webhookUrl: Url.optional() }).openapi('CreateBotBody');
export const BotCreated = z
  .object({
    bot: User,
    token: z.string().openapi({ example: 'bhb_…', description: 'Bearer key for the REST API; shown only here and on rotation' }),
    webhookSecret: Secret.optional(),
  })
  .openapi('BotCreated');
export const TokenResponse = z.object({ token: z.string() });
export const BotParams = z.object({ id: Id.openapi({ param: { name: 'id', in: 'path' } }) });

export const CreateIncomingBody = z.strictObject({ name: Text().trim().min(1).max(64) }).openapi('CreateIncomingWebhookBody');
export const IncomingWebhook = z
  .object({ id: z.string(), name: z.string(), botId: z.string(), createdBy: z.string(), createdAt: Time })
  .openapi('IncomingWebhook');
export const IncomingCreated = IncomingWebhook.extend({ url: z.string().openapi({ description: 'The URL is the credential: shown only here' }) }).openapi('IncomingWebhookCreated');
export const IncomingPage = z.object({ items: z.array(IncomingWebhook), nextCursor: z.null() });
export const IncomingParams = ConversationParams.extend({ iid: Id.openapi({ param: { name: 'iid', in: 'path' } }) });

export const HookPostParams = z.object({ token: Text().min(1).max(200).openapi({ param: { name: 'token', in: 'path' } }) });
export const HookPostBody = z.strictObject({ text: Text() }).openapi('IncomingWebhookPost');
