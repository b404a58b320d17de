/**
 * /api/v1/search/messages — full-text search over the conversations the
 * caller is a member of *now* (the UserDO's index: a membership change takes
 * effect at once, no Postgres scan). Algolia ranks and highlights; each hit
 * is shown in its current state from its ConversationDO, and a hit whose
 * message is gone meanwhile (the index lags a commit by a moment) is left out.
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { errors, jsonResponse } from '../../protocol/common.ts';
import { isGone, type Message } from '../../protocol/messages.ts';
import { decodeSearchCursor, encodeSearchCursor, SearchPage, SearchQuery } from '../../protocol/search.ts';
import { searchConfig, searchMessages } from '../../services/search.ts';
import type { AppEnv } from '../context.ts';
import { ApiError } from '../errors.ts';
import { requireAuth } from '../middleware/auth.ts';
import { defaultHook } from '../validation.ts';

const search = createRoute({
  method: 'get', path: '/messages', tags: ['search'], security: [{ bearerAuth: [] }], middleware: [requireAuth] as const,
  summary: 'Search my conversations’ messages, best match first',
  request: { query: SearchQuery },
  responses: { 200: jsonResponse(SearchPage, 'A page of hits'), ...errors(400, 401, 403, 404) },
});

export const searchRoutes = new OpenAPIHono<AppEnv>({ defaultHook }).openapi(search, async (c) => {
  const q = c.req.valid('query');
  const me = c.var.auth.userId;
  const user = c.env.USERS.getByName(me);
  let conversationIds: string[];
  if (q.conversationId) {
    const membership = await user.membership(q.conversationId);
    if (membership !== 'member') throw new ApiError(membership, membership === 'not_found' ? 'No such conversation' : 'You are not a member of this conversation');
    conversationIds = [q.conversationId];
  } else {
    conversationIds = await user.conversationIds();
  }
  const page = q.cursor ? decodeSearchCursor(q.cursor)! : 0;
  const found = await searchMessages(searchConfig(c.env), {
    query: q.q, conversationIds, senderId: q.senderId, type: q.type,
    after: q.after ? Date.parse(q.after) : undefined, before: q.before ? Date.parse(q.before) : undefined,
    page, hitsPerPage: q.limit,
  });
  // The hits' messages as they are now, one call per conversation.
  const byConversation = new Map<string, number[]>();
  for (const h of found.hits) byConversation.set(h.conversationId, [...(byConversation.get(h.conversationId) ?? []), h.seq]);
  const current = new Map<string, Message>();
  await Promise.all(
    [...byConversation].map(async ([id, seqs]) => {
      const r = await c.env.CONVERSATIONS.getByName(id).messagesAt(me, seqs);
      if (r.ok) for (const m of r.items) current.set(`${id}:${m.seq}`, m);
    }),
  );
  const items = found.hits.flatMap((h) => {
    const message = current.get(`${h.conversationId}:${h.seq}`);
    return message && !isGone(message) ? [{ message, highlight: h.highlight }] : [];
  });
  return c.json({ items, nextCursor: page + 1 < found.nbPages ? encodeSearchCursor(page + 1) : null }, 200);
});
