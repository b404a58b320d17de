/**
 * Incoming webhooks: `POST /conversations/:id/incoming-webhooks {name}` (a
 * group's owner or admin) makes a bot user for the integration, adds it to
 * the group the normal way (members see `member.joined`) and answers with a
 * secret URL; `POST /api/v1/hooks/<id>.<secret> {text}` (public: the URL is
 * the credential) posts a text message as that bot through the normal send
 * path, rate limited per hook; `Idempotency-Key` (≤ 64 chars) becomes the
 * message's clientMsgId, so a retried post is not a second message. Deleting
 * the hook stops its URL at once and takes its bot out of the group.
 *
 * Codes beyond API.md: 400 for a single conversation, 409 `webhook_limit`
 * (10 per conversation), 404 for an unknown or revoked hook URL.
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { randomToken, uuidv7 } from '../../lib/ids.ts';
import { errors, jsonBody, jsonResponse } from '../../protocol/common.ts';
import { ConversationParams } from '../../protocol/conversations.ts';
import { CreateIncomingBody, HookPostBody, HookPostParams, IncomingCreated, IncomingPage, IncomingParams } from '../../protocol/integrations.ts';
import { checkText, ClientMsgId, Message } from '../../protocol/messages.ts';
import { createBot, dropNewBot } from '../accounts/bots.ts';
import { publish } from '../conversations/actors.ts';
import { throwFailure } from '../conversations/failures.ts';
import { canManage } from '../conversations/rules.ts';
import { addMembers, type Loaded, loadForMember, removeMember } from '../conversations/store.ts';
import type { AppEnv } from '../context.ts';
import { ApiError } from '../errors.ts';
import { countIncoming, deleteIncoming, hookForToken, hookUrl, incomingView, insertIncoming, listIncoming, MAX_INCOMING } from '../integrations/incoming.ts';
import { enforceLimit } from '../lib/ratelimit.ts';
import { requireAuth } from '../middleware/auth.ts';
import { defaultHook } from '../validation.ts';

const base = { tags: ['webhooks'], security: [{ bearerAuth: [] }], middleware: [requireAuth] };

const create = createRoute({
  ...base, method: 'post', path: '/{id}/incoming-webhooks', summary: 'An incoming webhook: a secret URL that posts text as its own bot user (group owner or admin)',
  request: { params: ConversationParams, body: jsonBody(CreateIncomingBody) },
  responses: { 201: jsonResponse(IncomingCreated, 'Created; the URL is shown only here'), ...errors(400, 401, 403, 404, 409, 413) },
});
const list = createRoute({
  ...base, method: 'get', path: '/{id}/incoming-webhooks', summary: 'The group’s incoming webhooks (without their URLs)',
  request: { params: ConversationParams },
  responses: { 200: jsonResponse(IncomingPage, 'Oldest first'), ...errors(400, 401, 403, 404) },
});
const remove = createRoute({
  ...base, method: 'delete', path: '/{id}/incoming-webhooks/{iid}', summary: 'Delete an incoming webhook: its URL stops working at once, its bot leaves',
  request: { params: IncomingParams },
  responses: { 204: { description: 'Deleted' }, ...errors(400, 401, 403, 404) },
});
const post = createRoute({
  method: 'post', path: '/{token}', tags: ['webhooks'], summary: 'Post a text message through an incoming webhook (public: the URL is the credential)',
  request: { params: HookPostParams, body: jsonBody(HookPostBody) },
  responses: { 201: jsonResponse(Message, 'Posted'), 200: jsonResponse(Message, 'Already posted under this Idempotency-Key'), ...errors(400, 403, 404, 413, 429) },
});

/** The caller manages the group (owner or admin): 404 / 403 `not_member` / 400 single / 403 `forbidden`. */
async function managedGroup(c: { var: AppEnv['Variables'] }, id: string): Promise<Loaded> {
  const me = c.var.auth.userId;
  const loaded = await loadForMember(c.var.pg.db, id, me);
  if (loaded.row.kind !== 'group') throw new ApiError('validation_failed', 'Incoming webhooks are for groups');
  if (!canManage(loaded.members.find((m) => m.userId === me)!.role)) throw new ApiError('forbidden', 'Only the owner or an admin can manage incoming webhooks');
  return loaded;
}

export const incomingRoutes = new OpenAPIHono<AppEnv>({ defaultHook })
  .openapi(create, async (c) => {
    if (c.var.auth.isBot) throw new ApiError('not_for_bots', 'A bot cannot create incoming webhooks');
    const { id } = c.req.valid('param');
    const { name } = c.req.valid('json');
    const me = c.var.auth.userId;
    const db = c.var.pg.db;
    await managedGroup(c, id);
    if ((await countIncoming(db, id)) >= MAX_INCOMING) throw new ApiError('webhook_limit', `A group has at most ${MAX_INCOMING} incoming webhooks; delete one first`);
    const { row: bot } = await createBot(db, me, { username: `hook-${randomToken(9)}`, nickname: name, withToken: false });
    let change;
    try {
      change = await addMembers(db, id, me, [bot.id]);
    } catch (err) {
      await dropNewBot(db, bot.id);
      throw err;
    }
    await publish(c, change);
    const { row, secret } = await insertIncoming(db, { conversationId: id, botId: bot.id, name, createdBy: me });
    c.var.log('incoming_webhook.created', { userId: me, conversationId: id, hookId: row.id, botId: bot.id });
    return c.json({ ...incomingView(row), url: hookUrl(c.env, row.id, secret) }, 201);
  })
  .openapi(list, async (c) => {
    const { id } = c.req.valid('param');
    await managedGroup(c, id);
    return c.json({ items: (await listIncoming(c.var.pg.db, id)).map(incomingView), nextCursor: null }, 200);
  })
  .openapi(remove, async (c) => {
    const { id, iid } = c.req.valid('param');
    const me = c.var.auth.userId;
    await managedGroup(c, id);
    const row = await deleteIncoming(c.var.pg.db, id, iid);
    if (!row) throw new ApiError('not_found', 'No such incoming webhook in this group');
    try {
      await publish(c, await removeMember(c.var.pg.db, id, me, row.botId));
    } catch (err) {
      // Already gone from the group (removed by hand), or promoted beyond the caller's reach: the URL is dead either way.
      if (!(err instanceof ApiError)) throw err;
      c.var.log('incoming_webhook.bot_stays', { conversationId: id, botId: row.botId, code: err.code });
    }
    return c.body(null, 204);
  });

export const hookRoutes = new OpenAPIHono<AppEnv>({ defaultHook }).openapi(post, async (c) => {
  const hook = await hookForToken(c.var.pg.db, c.req.valid('param').token);
  if (!hook) throw new ApiError('not_found', 'No such webhook (it may have been deleted)');
  await enforceLimit(c.env, c.var.log, 'incoming_hook', hook.id);
  const { text } = c.req.valid('json');
  const invalid = checkText(text);
  if (invalid) throw new ApiError('validation_failed', invalid.replace(/^content/, 'text'));
  const key = c.req.header('idempotency-key');
  if (key !== undefined && !ClientMsgId.safeParse(key).success) throw new ApiError('validation_failed', 'Idempotency-Key must be 1–64 characters');
  const sent = await c.env.USERS.getByName(hook.botId).send(hook.conversationId, { clientMsgId: key ?? `hook-${uuidv7()}`, type: 'text', content: text }, {});
  if (!sent.ok) throwFailure(sent);
  return c.json(sent.message, sent.duplicate ? 200 : 201);
});
