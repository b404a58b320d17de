/**
 * /api/v1/bots — bots are users (`isBot: true`) owned by their creator, who
 * gets the bot's API token (shown once; rotate it to get a new one). A bot
 * uses the REST API with it, cannot be befriended or use /auth/*, and can be
 * added to groups and to single chats by its owner. With a `webhookUrl` the
 * bot's UserDO posts what its conversations deliver to it, signed with
 * `webhookSecret` (Standard Webhooks). Another user's bot answers 404.
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import { conversationMembers, conversations } from '../../db/schema.ts';
import { errors, jsonBody, jsonResponse } from '../../protocol/common.ts';
import { BotCreated, BotParams, CreateBotBody, TokenResponse } from '../../protocol/integrations.ts';
import { checkPublicUrl, urlRuleOf } from '../../services/safe-url.ts';
import { newWebhookSecret } from '../../services/webhooks/sign.ts';
import { createBot, ownedBot, retireBot, rotateBotToken } from '../accounts/bots.ts';
import { userView } from '../accounts/users.ts';
import { publish } from '../conversations/actors.ts';
import { leave } from '../conversations/store.ts';
import type { AppEnv } from '../context.ts';
import { ApiError } from '../errors.ts';
import { requireAuth } from '../middleware/auth.ts';
import { defaultHook } from '../validation.ts';

const base = { tags: ['bots'], security: [{ bearerAuth: [] }], middleware: [requireAuth] };

const create = createRoute({
  ...base, method: 'post', path: '/', summary: 'Create a bot; its token (and webhook secret) are shown only here',
  description: '403 `not_for_bots` when a bot asks; 409 `username_taken`; 400 for a webhookUrl that is not public https.',
  request: { body: jsonBody(CreateBotBody) },
  responses: { 201: jsonResponse(BotCreated, 'Created'), ...errors(400, 401, 403, 409, 413) },
});
const remove = createRoute({
  ...base, method: 'delete', path: '/{id}', summary: 'Delete a bot of mine: its token stops working at once and it leaves its groups',
  request: { params: BotParams },
  responses: { 204: { description: 'Deleted' }, ...errors(401, 404, 503) },
});
const rotate = createRoute({
  ...base, method: 'post', path: '/{id}/rotate-token', summary: 'A new token for a bot of mine; the old one is refused at once',
  request: { params: BotParams },
  responses: { 200: jsonResponse(TokenResponse, 'The new token (shown only here)'), ...errors(401, 404, 503) },
});

export const botRoutes = new OpenAPIHono<AppEnv>({ defaultHook })
  .openapi(create, async (c) => {
    if (c.var.auth.isBot) throw new ApiError('not_for_bots', 'A bot cannot create bots');
    const me = c.var.auth.userId;
    const { username, nickname, webhookUrl } = c.req.valid('json');
    const problem = webhookUrl === undefined ? undefined : checkPublicUrl(webhookUrl, urlRuleOf(c.env));
    if (problem) throw new ApiError('validation_failed', `webhookUrl: ${problem}`);
    const webhookSecret = webhookUrl === undefined ? undefined : newWebhookSecret();
    const { row, token } = await createBot(c.var.pg.db, me, { username, nickname, webhookUrl, webhookSecret, withToken: true });
    if (webhookUrl && webhookSecret) await c.env.USERS.getByName(row.id).setBotHook({ url: webhookUrl, secret: webhookSecret, ownerId: me });
    c.var.log('bot.created', { userId: me, botId: row.id, webhook: Boolean(webhookUrl) });
    return c.json({ bot: userView(row, me), token: token!, ...(webhookSecret ? { webhookSecret } : {}) }, 201);
  })
  .openapi(remove, async (c) => {
    const me = c.var.auth.userId;
    const db = c.var.pg.db;
    const bot = await ownedBot(db, me, c.req.valid('param').id);
    await retireBot(db, c.env, bot);
    await c.env.USERS.getByName(bot.id).setBotHook(null);
    // It leaves its groups the normal way (their members see member.left); a single chat cannot be left and stays.
    const groups = await db
      .select({ id: conversations.id })
      .from(conversationMembers)
      .innerJoin(conversations, eq(conversations.id, conversationMembers.conversationId))
      .where(and(eq(conversationMembers.userId, bot.id), eq(conversations.kind, 'group')));
    for (const g of groups) await publish(c, await leave(db, g.id, bot.id));
    c.var.log('bot.deleted', { userId: me, botId: bot.id, groups: groups.length });
    return c.body(null, 204);
  })
  .openapi(rotate, async (c) => {
    const bot = await ownedBot(c.var.pg.db, c.var.auth.userId, c.req.valid('param').id);
    const token = await rotateBotToken(c.var.pg.db, c.env, bot);
    c.var.log('bot.token_rotated', { userId: c.var.auth.userId, botId: bot.id });
    return c.json({ token }, 200);
  });
