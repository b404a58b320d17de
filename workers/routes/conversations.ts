/**
 * /api/v1/conversations — conversations and their members. Postgres holds
 * membership (workers/conversations/store.ts); after each change the
 * ConversationDO's mirror is updated and members' UserDOs are told
 * (workers/conversations/actors.ts). Messages: routes/messages.ts.
 *
 * Codes beyond API.md: 403 `not_friends` (a single chat with, or adding to
 * a group, someone who is not your friend), 403 `blocked`, 403 `forbidden`
 * (role too low), 409 `group_full` (GROUP_MAX_MEMBERS), and 400
 * `validation_failed` for unknown user ids, for acting on yourself (start a
 * single with, remove, re-role) and for group-only operations on a single
 * conversation (name/avatar/announcement, members, leave).
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import * as P from '../../protocol/conversations.ts';
import { errors, jsonBody, jsonResponse } from '../../protocol/common.ts';
import { checkGroupAvatar } from '../../services/files/access.ts';
import { publish, withCounters } from '../conversations/actors.ts';
import * as store from '../conversations/store.ts';
import type { AppEnv } from '../context.ts';
import { ApiError } from '../errors.ts';
import { requireAuth } from '../middleware/auth.ts';
import { defaultHook } from '../validation.ts';

const base = { tags: ['conversations'], security: [{ bearerAuth: [] }], middleware: [requireAuth] };
const conversation = (description: string) => jsonResponse(P.Conversation, description);

const create = createRoute({
  ...base, method: 'post', path: '/', summary: 'Start a single conversation with a friend, or create a group',
  request: { body: jsonBody(P.CreateConversationBody) },
  responses: { 201: conversation('Created'), 200: conversation('The pair’s existing single conversation'), ...errors(400, 401, 403, 413) },
});
const list = createRoute({
  ...base, method: 'get', path: '/', summary: 'My conversations, newest activity first',
  request: { query: P.ListQuery },
  responses: { 200: jsonResponse(P.ConversationList, 'A page'), ...errors(400, 401) },
});
const get = createRoute({
  ...base, method: 'get', path: '/{id}', summary: 'A conversation with its members and my counters',
  request: { params: P.ConversationParams },
  responses: { 200: conversation('The conversation'), ...errors(401, 403, 404) },
});
const patch = createRoute({
  ...base, method: 'patch', path: '/{id}',
  summary: 'Edit a group (owner or admin), or turn disappearing messages on or off (also either member of a single chat); each change is a conversation.updated event',
  request: { params: P.ConversationParams, body: jsonBody(P.PatchConversationBody) },
  responses: { 200: conversation('Updated'), ...errors(400, 401, 403, 404) },
});
const settings = createRoute({
  ...base, method: 'put', path: '/{id}/settings', summary: 'My settings for this conversation: muted (mutes push, not delivery)',
  request: { params: P.ConversationParams, body: jsonBody(P.MuteBody) },
  responses: { 200: jsonResponse(P.MuteResponse, 'My settings now'), ...errors(400, 401, 403, 404) },
});
const addMembers = createRoute({
  ...base, method: 'post', path: '/{id}/members', summary: 'Add members to a group (owner or admin); existing members are skipped',
  request: { params: P.ConversationParams, body: jsonBody(P.AddMembersBody) },
  responses: { 200: conversation('The group after the change'), ...errors(400, 401, 403, 404, 409) },
});
const removeMember = createRoute({
  ...base, method: 'delete', path: '/{id}/members/{userId}', summary: 'Remove a member: the owner removes anyone, an admin plain members',
  request: { params: P.MemberParams },
  responses: { 204: { description: 'Removed' }, ...errors(400, 401, 403, 404) },
});
const setRole = createRoute({
  ...base, method: 'patch', path: '/{id}/members/{userId}', summary: 'Make a member an admin or back (owner only)',
  request: { params: P.MemberParams, body: jsonBody(P.SetRoleBody) },
  responses: { 200: conversation('The group after the change'), ...errors(400, 401, 403, 404) },
});
const leave = createRoute({
  ...base, method: 'post', path: '/{id}/leave',
  summary: 'Leave a group; a leaving owner hands over to the longest-standing admin, else member. A single conversation cannot be left (400)',
  request: { params: P.ConversationParams },
  responses: { 204: { description: 'Left; nothing more is delivered to you' }, ...errors(400, 401, 403, 404) },
});

export const conversationRoutes = new OpenAPIHono<AppEnv>({ defaultHook })
  .openapi(create, async (c) => {
    const body = c.req.valid('json');
    const me = c.var.auth.userId;
    if (body.kind === 'single') {
      const { loaded, created } = await store.findOrCreateSingle(c.var.pg.db, me, body.peerId);
      // Also when it existed: mirror and notices are idempotent, and this repairs any an earlier call lost.
      await publish(c, { before: loaded, after: loaded, actorId: me });
      return c.json(await withCounters(c, loaded, created), created ? 201 : 200);
    }
    const loaded = await store.createGroup(c.var.pg.db, me, body.name, body.memberIds);
    await publish(c, { before: loaded, after: loaded, actorId: me });
    return c.json(await withCounters(c, loaded, true), 201);
  })
  .openapi(list, async (c) => {
    const page = await c.env.USERS.getByName(c.var.auth.userId).listConversations(c.req.valid('query'));
    return c.json(page, 200);
  })
  .openapi(get, async (c) => {
    const loaded = await store.loadForMember(c.var.pg.db, c.req.valid('param').id, c.var.auth.userId);
    return c.json(await withCounters(c, loaded), 200);
  })
  .openapi(patch, async (c) => {
    const body = c.req.valid('json');
    if (body.avatarFileId) {
      const avatar = await checkGroupAvatar(c.var.pg.db, c.var.auth.userId, body.avatarFileId);
      if (!avatar.ok) throw new ApiError(avatar.code, avatar.message);
    }
    const change = await store.patchConversation(c.var.pg.db, c.req.valid('param').id, c.var.auth.userId, body);
    await publish(c, change);
    return c.json(await withCounters(c, change.after), 200);
  })
  .openapi(settings, async (c) => {
    const { id } = c.req.valid('param');
    const { muted } = c.req.valid('json');
    const me = c.env.USERS.getByName(c.var.auth.userId);
    const membership = await me.membership(id);
    if (membership !== 'member') throw new ApiError(membership, membership === 'not_found' ? 'No such conversation' : 'You are not a member of this conversation');
    return c.json(muted === undefined ? await me.getMuted(id) : await me.setMuted(id, muted), 200);
  })
  .openapi(addMembers, async (c) => {
    const change = await store.addMembers(c.var.pg.db, c.req.valid('param').id, c.var.auth.userId, c.req.valid('json').userIds);
    if (change.changed) await publish(c, change);
    return c.json(await withCounters(c, change.after), 200);
  })
  .openapi(removeMember, async (c) => {
    const { id, userId } = c.req.valid('param');
    await publish(c, await store.removeMember(c.var.pg.db, id, c.var.auth.userId, userId));
    return c.body(null, 204);
  })
  .openapi(setRole, async (c) => {
    const { id, userId } = c.req.valid('param');
    const change = await store.setRole(c.var.pg.db, id, c.var.auth.userId, userId, c.req.valid('json').role);
    if (change.after !== change.before) await publish(c, change);
    return c.json(await withCounters(c, change.after), 200);
  })
  .openapi(leave, async (c) => {
    await publish(c, await store.leave(c.var.pg.db, c.req.valid('param').id, c.var.auth.userId));
    return c.body(null, 204);
  });
