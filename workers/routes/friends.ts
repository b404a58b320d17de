/** /api/v1/friends — my friends with their presence, unfriending, and the requests router (friend-requests.ts). */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { errors, jsonResponse } from '../../protocol/common.ts';
import { FriendPage, PageQuery, UserIdParam } from '../../protocol/social.ts';
import type { AppEnv } from '../context.ts';
import { ApiError } from '../errors.ts';
import { errorText } from '../../lib/log.ts';
import { requireAuth } from '../middleware/auth.ts';
import { NEVER_SEEN, presenceOf, type Presence } from '../../services/presence.ts';
import { redisClient } from '../../services/redis.ts';
import { decodeTimeCursor, pageOf } from '../social/cursor.ts';
import { listFriends, unfriend } from '../social/friendships.ts';
import { profileView } from '../social/profiles.ts';
import { defaultHook } from '../validation.ts';
import { friendRequestRoutes } from './friend-requests.ts';

const authed = { tags: ['friends'], security: [{ bearerAuth: [] }], middleware: [requireAuth] };

const list = createRoute({
  operationId: 'listFriends', ...authed, method: 'get', path: '/', summary: 'My friends, newest friendship first, with presence',
  request: { query: PageQuery },
  responses: { 200: jsonResponse(FriendPage, 'A page of friends'), ...errors(400, 401) },
});
const remove = createRoute({
  operationId: 'removeFriend', ...authed, method: 'delete', path: '/{userId}', summary: 'End a friendship (both ways)',
  request: { params: UserIdParam },
  responses: { 204: { description: 'No longer friends' }, ...errors(400, 401, 404) },
});

export const friendRoutes = new OpenAPIHono<AppEnv>({ defaultHook })
  .openapi(list, async (c) => {
    const me = c.var.auth.userId;
    const { limit, cursor } = c.req.valid('query');
    const rows = await listFriends(c.var.pg.db, me, limit, decodeTimeCursor(cursor));
    const shown = rows.slice(0, limit);
    // One MGET for the whole page. Presence is decoration: without Redis the list still answers, everyone offline.
    let presence: Record<string, Presence> = {};
    try {
      presence = await presenceOf(redisClient(c.env), shown.map((r) => r.user.id));
    } catch (err) {
      c.var.log.warn('presence.read_failed', { error: errorText(err) });
    }
    return c.json(
      pageOf(rows, limit, (r) => [r.since.toISOString(), r.user.id], (r) => ({
        user: profileView(r.user, me),
        since: r.since.toISOString(),
        ...(presence[r.user.id] ?? NEVER_SEEN),
      })),
      200,
    );
  })
  .openapi(remove, async (c) => {
    if (!(await unfriend(c.var.pg.db, c.var.auth.userId, c.req.valid('param').userId))) throw new ApiError('not_found', 'You are not friends');
    return c.body(null, 204);
  })
  .route('/requests', friendRequestRoutes);
