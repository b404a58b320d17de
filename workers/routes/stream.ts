/**
 * The conversation stream over REST (API.md § The conversation stream):
 * messages and events after a cursor, and the changes a member makes to a
 * message — edit, recall, reactions — each of which becomes an event at the
 * next seq. Read receipts of a message. The ConversationDO holds the rules
 * (durable-objects/conversation/commands.ts); these routes pass through.
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { ConversationParams } from '../../protocol/conversations.ts';
import { errors, jsonBody, jsonResponse } from '../../protocol/common.ts';
import { EditBody, Event, EventsPage, EventsQuery, type MessageAction, MessageSeqParams, ReactionParams, Receipts } from '../../protocol/events.ts';
import { asMember } from '../conversations/actors.ts';
import type { AppEnv } from '../context.ts';
import { requireAuth } from '../middleware/auth.ts';
import { defaultHook } from '../validation.ts';

const base = { tags: ['stream'], security: [{ bearerAuth: [] }], middleware: [requireAuth] };
const event = (description: string) => jsonResponse(Event, description);

const events = createRoute({
  ...base, method: 'get', path: '/{id}/events', summary: 'Messages and events after afterSeq, in seq order (one cursor syncs everything)',
  request: { params: ConversationParams, query: EventsQuery },
  responses: { 200: jsonResponse(EventsPage, 'At most limit entries, and the conversation’s lastSeq'), ...errors(400, 401, 403, 404) },
});
const editMessage = createRoute({
  ...base, method: 'patch', path: '/{id}/messages/{seq}', summary: 'Edit my text message (within EDIT_WINDOW_SECONDS)',
  request: { params: MessageSeqParams, body: jsonBody(EditBody) },
  responses: { 200: event('The message.edited event'), ...errors(400, 401, 403, 404, 409) },
});
const recallMessage = createRoute({
  ...base, method: 'post', path: '/{id}/messages/{seq}/recall',
  summary: 'Recall a message: the sender within RECALL_WINDOW_SECONDS, a group’s owner or admin any time; again returns the same event',
  request: { params: MessageSeqParams },
  responses: { 200: event('The message.recalled event'), ...errors(400, 401, 403, 404, 409) },
});
const addReaction = createRoute({
  ...base, method: 'put', path: '/{id}/messages/{seq}/reactions/{emoji}', summary: 'React with one emoji (a repeat changes nothing)',
  request: { params: ReactionParams },
  responses: { 200: event('The reaction.added event (for a repeat: the one that added it)'), ...errors(400, 401, 403, 404, 409) },
});
const removeReaction = createRoute({
  ...base, method: 'delete', path: '/{id}/messages/{seq}/reactions/{emoji}', summary: 'Take my reaction back (a repeat changes nothing)',
  request: { params: ReactionParams },
  responses: { 200: event('The reaction.removed event (for a repeat: the one that removed it)'), ...errors(400, 401, 403, 404, 409) },
});
const receipts = createRoute({
  ...base, method: 'get', path: '/{id}/messages/{seq}/receipts', summary: 'Who has read a message (its sender left out)',
  request: { params: MessageSeqParams },
  responses: { 200: jsonResponse(Receipts, 'Members whose read cursor reached the message'), ...errors(400, 401, 403, 404) },
});

function act(c: Context<AppEnv>, id: string, action: MessageAction) {
  const me = c.var.auth.userId;
  return asMember(c, id, () => c.env.CONVERSATIONS.getByName(id).act(me, action, {}));
}

export const streamRoutes = new OpenAPIHono<AppEnv>({ defaultHook })
  .openapi(events, async (c) => {
    const { id } = c.req.valid('param');
    const { afterSeq, limit } = c.req.valid('query');
    const me = c.var.auth.userId;
    const page = await asMember(c, id, () => c.env.CONVERSATIONS.getByName(id).events(me, afterSeq, limit));
    return c.json({ items: page.items, lastSeq: page.lastSeq }, 200);
  })
  .openapi(editMessage, async (c) => {
    const { id, seq } = c.req.valid('param');
    return c.json((await act(c, id, { kind: 'edit', seq, content: c.req.valid('json').content })).event, 200);
  })
  .openapi(recallMessage, async (c) => {
    const { id, seq } = c.req.valid('param');
    return c.json((await act(c, id, { kind: 'recall', seq })).event, 200);
  })
  .openapi(addReaction, async (c) => {
    const { id, seq, emoji } = c.req.valid('param');
    return c.json((await act(c, id, { kind: 'react', seq, emoji, on: true })).event, 200);
  })
  .openapi(removeReaction, async (c) => {
    const { id, seq, emoji } = c.req.valid('param');
    return c.json((await act(c, id, { kind: 'react', seq, emoji, on: false })).event, 200);
  })
  .openapi(receipts, async (c) => {
    const { id, seq } = c.req.valid('param');
    const me = c.var.auth.userId;
    const { ok: _ok, ...r } = await asMember(c, id, () => c.env.CONVERSATIONS.getByName(id).receipts(me, seq));
    return c.json(r, 200);
  });
