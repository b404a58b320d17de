/** /api/v1/users — profiles. */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { User } from '../../protocol/accounts.ts';
import { errors, jsonResponse } from '../../protocol/common.ts';
import { findById, userView } from '../accounts/users.ts';
import type { AppEnv } from '../context.ts';
import { ApiError } from '../errors.ts';
import { requireAuth } from '../middleware/auth.ts';
import { defaultHook } from '../validation.ts';

const me = createRoute({
  method: 'get', path: '/me', tags: ['users'], summary: 'My profile (with my email)', security: [{ bearerAuth: [] }],
  middleware: [requireAuth] as const,
  responses: { 200: jsonResponse(User, 'The signed-in user'), ...errors(401) },
});

export const userRoutes = new OpenAPIHono<AppEnv>({ defaultHook }).openapi(me, async (c) => {
  const user = await findById(c.var.pg.db, c.var.auth.userId);
  if (!user) throw new ApiError('unauthenticated', 'This account no longer exists');
  return c.json(userView(user, user.id), 200);
});
