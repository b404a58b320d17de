/** /api/v1/users — profiles: mine (read, edit), anyone's public one, by ids, by search; and blocks (blocks.ts). */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { User } from '../../protocol/accounts.ts';
import { checkUserAvatar } from '../../services/files/access.ts';
import { errors, jsonBody, jsonResponse } from '../../protocol/common.ts';
import { IdParam, ProfilePatch, SearchQuery, UserPage, UsersByIdsQuery } from '../../protocol/social.ts';
import type { AppEnv } from '../context.ts';
import { ApiError } from '../errors.ts';
import { requireAuth } from '../middleware/auth.ts';
import { decodeCursor, pageOf } from '../social/cursor.ts';
import { getProfile, getProfiles, profileView, searchProfiles, updateProfile } from '../social/profiles.ts';
import { defaultHook } from '../validation.ts';
import { blockRoutes } from './blocks.ts';

const secured = [{ bearerAuth: [] }];
const authed = { tags: ['users'], security: secured, middleware: [requireAuth] };

// Literal paths (/me, /search) are registered before /{id}; ids are UUIDs, so they could not collide anyway.
const getMe = createRoute({
  operationId: 'getMe', ...authed, method: 'get', path: '/me', summary: 'My profile (with my email)',
  responses: { 200: jsonResponse(User, 'The signed-in user'), ...errors(401) },
});
const patchMe = createRoute({
  operationId: 'updateMe', ...authed, method: 'patch', path: '/me', summary: 'Edit my profile (null clears avatar or bio)',
  request: { body: jsonBody(ProfilePatch) },
  responses: { 200: jsonResponse(User, 'The updated profile'), ...errors(400, 401, 413) },
});
const search = createRoute({
  operationId: 'searchUsers', ...authed, method: 'get', path: '/search', summary: 'Find users by username or nickname prefix',
  request: { query: SearchQuery },
  responses: { 200: jsonResponse(UserPage, 'Matches ordered by username'), ...errors(400, 401) },
});
const byIds = createRoute({
  operationId: 'getUsers', ...authed, method: 'get', path: '/', summary: 'Public profiles of up to 100 users',
  request: { query: UsersByIdsQuery },
  responses: { 200: jsonResponse(UserPage, 'In the order asked; unknown ids are left out; never a next page'), ...errors(400, 401) },
});
const byId = createRoute({
  operationId: 'getUser', ...authed, method: 'get', path: '/{id}', summary: 'A public profile',
  request: { params: IdParam },
  responses: { 200: jsonResponse(User, 'The user (email only if it is you)'), ...errors(400, 401, 404) },
});

export const userRoutes = new OpenAPIHono<AppEnv>({ defaultHook })
  .openapi(getMe, async (c) => {
    const me = c.var.auth.userId;
    const user = await getProfile({ env: c.env, db: c.var.pg.db, log: c.var.log }, me);
    if (!user) throw new ApiError('unauthenticated', 'This account no longer exists');
    return c.json(profileView(user, me), 200);
  })
  .openapi(patchMe, async (c) => {
    const me = c.var.auth.userId;
    const deps = { env: c.env, db: c.var.pg.db, log: c.var.log };
    const changes = c.req.valid('json');
    if (changes.avatarFileId) {
      const avatar = await checkUserAvatar(c.var.pg.db, me, changes.avatarFileId);
      if (!avatar.ok) throw new ApiError(avatar.code, avatar.message);
    }
    const user = Object.keys(changes).length > 0 ? await updateProfile(deps, me, changes, new Date()) : await getProfile(deps, me);
    if (!user) throw new ApiError('unauthenticated', 'This account no longer exists');
    return c.json(profileView(user, me), 200);
  })
  .openapi(search, async (c) => {
    const { q, limit, cursor } = c.req.valid('query');
    const after = decodeCursor(cursor, 1)?.[0];
    const rows = await searchProfiles(c.var.pg.db, q, limit, after);
    return c.json(pageOf(rows, limit, (r) => [r.sortKey], (r) => profileView(r, c.var.auth.userId)), 200);
  })
  .openapi(byIds, async (c) => {
    const { ids } = c.req.valid('query');
    const found = await getProfiles({ env: c.env, db: c.var.pg.db, log: c.var.log }, ids);
    const items = ids.flatMap((id) => {
      const p = found.get(id);
      return p ? [profileView(p, c.var.auth.userId)] : [];
    });
    return c.json({ items, nextCursor: null }, 200);
  })
  .openapi(byId, async (c) => {
    const { id } = c.req.valid('param');
    const user = await getProfile({ env: c.env, db: c.var.pg.db, log: c.var.log }, id);
    if (!user) throw new ApiError('not_found', 'No such user');
    return c.json(profileView(user, c.var.auth.userId), 200);
  })
  .route('/', blockRoutes);
