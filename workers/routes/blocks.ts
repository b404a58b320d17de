/** /api/v1/users/{id}/block — block and unblock (mounted by users.ts). */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { errors } from '../../protocol/common.ts';
import { IdParam } from '../../protocol/social.ts';
import type { AppEnv } from '../context.ts';
import { mirrorBlock } from '../conversations/blocks.ts';
import { ApiError } from '../errors.ts';
import { errorText } from '../../lib/log.ts';
import { requireAuth } from '../middleware/auth.ts';
import { block, unblock } from '../social/blocks.ts';
import { getProfile } from '../social/profiles.ts';
import { defaultHook } from '../validation.ts';

const authed = { tags: ['users'], security: [{ bearerAuth: [] }], middleware: [requireAuth] };

/**
 * The pair's single conversation enforces blocks on sends from its own mirror
 * (ConversationDO.setBlock), so the mirror is part of the block: it is awaited,
 * and if it fails the answer is 503 — the block itself is committed, and
 * retrying (both routes are idempotent) completes the mirror.
 */
async function mirror(c: Context<AppEnv>, blocker: string, blocked: string, on: boolean): Promise<void> {
  try {
    await mirrorBlock(c.env, c.var.pg.db, blocker, blocked);
  } catch (err) {
    c.var.log.warn('social.block_mirror_failed', { userId: blocker, blockedId: blocked, blocked: on, error: errorText(err) });
    throw new ApiError('unavailable', 'Saved, but not yet applied to your conversation with this user: please retry');
  }
}

const blockUser = createRoute({
  operationId: 'blockUser', ...authed, method: 'post', path: '/{id}/block', summary: 'Block a user',
  description: 'Idempotent. Ends the friendship and rejects pending requests both ways; the blocked user then gets 403 `blocked` on requests and messages to you.',
  request: { params: IdParam },
  responses: { 204: { description: 'Blocked' }, ...errors(400, 401, 404, 503) },
});
const unblockUser = createRoute({
  operationId: 'unblockUser', ...authed, method: 'delete', path: '/{id}/block', summary: 'Unblock a user',
  description: 'Idempotent. Nothing the block ended comes back.',
  request: { params: IdParam },
  responses: { 204: { description: 'Not blocked (any more)' }, ...errors(400, 401, 404, 503) },
});

export const blockRoutes = new OpenAPIHono<AppEnv>({ defaultHook })
  .openapi(blockUser, async (c) => {
    const me = c.var.auth.userId;
    const { id } = c.req.valid('param');
    if (id === me) throw new ApiError('validation_failed', 'You cannot block yourself');
    if (!(await getProfile({ env: c.env, db: c.var.pg.db, log: c.var.log }, id))) throw new ApiError('not_found', 'No such user');
    await block(c.var.pg.db, me, id, new Date());
    await mirror(c, me, id, true);
    c.var.log('social.block', { userId: me, blockedId: id });
    return c.body(null, 204);
  })
  .openapi(unblockUser, async (c) => {
    const me = c.var.auth.userId;
    const { id } = c.req.valid('param');
    if (id === me) throw new ApiError('validation_failed', 'You cannot block yourself');
    if (!(await getProfile({ env: c.env, db: c.var.pg.db, log: c.var.log }, id))) throw new ApiError('not_found', 'No such user');
    await unblock(c.var.pg.db, me, id);
    await mirror(c, me, id, false);
    return c.body(null, 204);
  });
