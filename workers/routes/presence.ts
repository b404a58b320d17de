/** /api/v1/presence — who is online, from Upstash Redis (services/presence.ts). */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { errors, jsonBody, jsonResponse } from '../../protocol/common.ts';
import { PresenceQueryBody, PresenceResponse } from '../../protocol/conversations.ts';
import type { AppEnv } from '../context.ts';
import { requireAuth } from '../middleware/auth.ts';
import { presenceOf } from '../../services/presence.ts';
import { redisClient } from '../../services/redis.ts';
import { defaultHook } from '../validation.ts';

const query = createRoute({
  method: 'post', path: '/query', tags: ['presence'], summary: 'Presence of up to 200 users (one Redis round trip)',
  security: [{ bearerAuth: [] }], middleware: [requireAuth] as const,
  request: { body: jsonBody(PresenceQueryBody) },
  responses: { 200: jsonResponse(PresenceResponse, 'Keyed by user id; unknown ids read as never seen'), ...errors(400, 401, 413) },
});

export const presenceRoutes = new OpenAPIHono<AppEnv>({ defaultHook }).openapi(query, async (c) => {
  const userIds = [...new Set(c.req.valid('json').userIds)];
  return c.json({ presence: await presenceOf(redisClient(c.env), userIds) }, 200);
});
