/**
 * /api/v1/conversations/:id/messages, /read and /ws — thin pass-throughs to
 * the actors, which authorize against their membership mirror. A send goes
 * through the sender's UserDO (the per-user rate limit, batching) to the
 * ConversationDO, the same path a WebSocket `message.send` takes.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import * as P from '../../protocol/conversations.ts';
import { errors, jsonBody, jsonResponse } from '../../protocol/common.ts';
import { checkContent, Message, SendBody, toSendInput } from '../../protocol/messages.ts';
import { asMember, mirror } from '../conversations/actors.ts';
import { loadForMember } from '../conversations/store.ts';
import type { AppEnv } from '../context.ts';
import { ApiError } from '../errors.ts';
import { requireAuth } from '../middleware/auth.ts';
import { defaultHook } from '../validation.ts';
import { authenticateUpgrade, forwardUpgrade } from './ws.ts';

const base = { tags: ['messages'], security: [{ bearerAuth: [] }], middleware: [requireAuth] };

const history = createRoute({
  ...base, method: 'get', path: '/{id}/messages',
  summary: 'A page of messages in their current state, ascending by seq: the newest below beforeSeq, or the oldest above afterSeq',
  request: { params: P.ConversationParams, query: P.HistoryQuery },
  responses: { 200: jsonResponse(P.MessagePage, 'Ascending by seq'), ...errors(400, 401, 403, 404) },
});
const send = createRoute({
  ...base, method: 'post', path: '/{id}/messages',
  summary: 'Send a message, or forward one (forwardOf); a retry with the same clientMsgId returns the original',
  request: { params: P.ConversationParams, body: jsonBody(SendBody) },
  responses: { 201: jsonResponse(Message, 'Committed'), ...errors(400, 401, 403, 404, 409, 413, 429) },
});
const read = createRoute({
  ...base, method: 'post', path: '/{id}/read', summary: 'Move my read cursor forward (never back)',
  request: { params: P.ConversationParams, body: jsonBody(P.ReadBody) },
  responses: { 204: { description: 'Read up to min(seq, lastSeq)' }, ...errors(400, 401, 403, 404) },
});
const liveView = createRoute({
  method: 'get', path: '/{id}/ws', tags: ['realtime'], summary: 'A live-view WebSocket on one conversation (members only; bearer or ?ticket=)',
  request: { params: P.ConversationParams, query: z.object({ ticket: z.string().max(128).optional() }) },
  responses: { 101: { description: 'Switching protocols' }, ...errors(401, 403, 404, 426) },
});

export const messageRoutes = new OpenAPIHono<AppEnv>({ defaultHook })
  .openapi(history, async (c) => {
    const { id } = c.req.valid('param');
    const me = c.var.auth.userId;
    const query = c.req.valid('query');
    const page = await asMember(c, id, () => c.env.CONVERSATIONS.getByName(id).history(me, query));
    return c.json({ items: page.items, nextCursor: null }, 200);
  })
  .openapi(send, async (c) => {
    const { id } = c.req.valid('param');
    const input = toSendInput(c.req.valid('json'));
    if (!input.forwardOf) {
      const invalid = checkContent(input);
      if (invalid) throw new ApiError('validation_failed', invalid);
    }
    const me = c.var.auth.userId;
    // Retrying after a repaired mirror is safe: the send is idempotent by clientMsgId.
    const sent = await asMember(c, id, () => c.env.USERS.getByName(me).send(id, input, {}));
    return c.json(sent.message, 201);
  })
  .openapi(read, async (c) => {
    const { id } = c.req.valid('param');
    const me = c.var.auth.userId;
    const { seq } = c.req.valid('json');
    await asMember(c, id, () => c.env.CONVERSATIONS.getByName(id).markRead(me, seq));
    return c.body(null, 204);
  })
  .openapi(liveView, async (c) => {
    const { id } = c.req.valid('param');
    const auth = await authenticateUpgrade(c);
    const loaded = await loadForMember(c.var.pg.db, id, auth.userId);
    // Remembered by the user's UserDO first, so revoking this session also closes this socket.
    await c.env.USERS.getByName(auth.userId).registerLiveView(auth.sessionId, id);
    const stub = c.env.CONVERSATIONS.getByName(id);
    const identity = { 'x-beehive-user': auth.userId, 'x-beehive-session': auth.sessionId };
    const res = await forwardUpgrade(c.req.raw, stub, identity);
    if (res.status !== 403) return res;
    // Postgres says member, the mirror says not: it missed a change. Repair it and try once more.
    await mirror(c.env, loaded);
    return forwardUpgrade(c.req.raw, stub, identity);
  });
