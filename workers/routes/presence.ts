/** /api/v1/presence — who is online, from Upstash Redis (services/presence.ts), as far as the caller may see. */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { errors, jsonBody, jsonResponse } from '../../protocol/common.ts';
import { PresenceQueryBody, PresenceResponse } from '../../protocol/conversations.ts';
import type { AppEnv } from '../context.ts';
import { requireAuth } from '../middleware/auth.ts';
import { NEVER_SEEN, presenceOf } from '../../services/presence.ts';
import { redisClient } from '../../services/redis.ts';
import { visibleFriends } from '../social/friendships.ts';
import { defaultHook } from '../validation.ts';

const query = createRoute({
  operationId: 'queryPresence', method: 'post', path: '/query', tags: ['presence'], summary: 'Presence of up to 200 users (one Postgres query, one Redis round trip)',
  description:
    'Presence follows the friend list: real presence is shown for the caller and their friends only. Anyone else — a stranger, ' +
    'someone who blocked the caller or whom the caller blocked, an unknown id — reads as `{online: false, lastSeenAt: null}`, ' +
    'the same as a user never seen, so the answer does not tell which.',
  security: [{ bearerAuth: [] }], middleware: [requireAuth] as const,
  request: { body: jsonBody(PresenceQueryBody) },
  responses: { 200: jsonResponse(PresenceResponse, 'Keyed by user id, one entry per id asked'), ...errors(400, 401, 413) },
});

export const presenceRoutes = new OpenAPIHono<AppEnv>({ defaultHook }).openapi(query, async (c) => {
  const me = c.var.auth.userId;
  const asked = [...new Set(c.req.valid('json').userIds)];
  const friends = await visibleFriends(c.var.pg.db, me, asked.filter((id) => id !== me));
  const visible = asked.filter((id) => id === me || friends.has(id));
  const known = await presenceOf(redisClient(c.env), visible);
  return c.json({ presence: Object.fromEntries(asked.map((id) => [id, known[id] ?? NEVER_SEEN])) }, 200);
});
