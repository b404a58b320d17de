/** /api/v1/friends/requests — send, list, accept, reject (mounted by friends.ts). Rules: social/requests.ts. */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { errors, jsonBody, jsonResponse } from '../../protocol/common.ts';
import { IdParam, RequestEnvelope, RequestPage, RequestsQuery, SendRequestBody } from '../../protocol/social.ts';
import type { AppEnv } from '../context.ts';
import { ApiError } from '../errors.ts';
import { requireAuth } from '../middleware/auth.ts';
import { decodeTimeCursor, pageOf } from '../social/cursor.ts';
import { notifyUser } from '../social/notify.ts';
import { getProfile } from '../social/profiles.ts';
import { answerRequest, listRequests, requestView, sendRequest, type AnswerOutcome } from '../social/requests.ts';
import { defaultHook } from '../validation.ts';

const authed = { tags: ['friends'], security: [{ bearerAuth: [] }], middleware: [requireAuth] };

const send = createRoute({
  operationId: 'sendFriendRequest', ...authed, method: 'post', path: '/', summary: 'Ask someone to be friends',
  description:
    'If they already asked you, this accepts theirs: the friendship is made and the answer is 201 with your request as `accepted`. ' +
    'Refusals: 400 `validation_failed` (yourself), 404 `not_found`, 403 `not_for_bots` (to or from a bot), 403 `blocked` (they blocked you), 409 `blocked_by_you` (you blocked them: unblock first), ' +
    '409 `already_friends`, 409 `duplicate_request` (you asked within 24 h; after that a new request replaces the old one).',
  request: { body: jsonBody(SendRequestBody) },
  responses: { 201: jsonResponse(RequestEnvelope, 'Sent (pending), or accepted at once'), ...errors(400, 401, 403, 404, 409, 413) },
});
const list = createRoute({
  operationId: 'listFriendRequests', ...authed, method: 'get', path: '/', summary: 'My pending requests, newest first',
  request: { query: RequestsQuery },
  responses: { 200: jsonResponse(RequestPage, 'Pending and unexpired only'), ...errors(400, 401) },
});
const answerDoc = (verb: 'accept' | 'reject') =>
  createRoute({
    ...authed, operationId: `${verb}FriendRequest`, method: 'post', path: `/{id}/${verb}`, summary: verb === 'accept' ? 'Accept a request (friends both ways)' : 'Reject a request',
    description: 'Only its recipient may answer; to anyone else it is 404 `not_found`. 409 `request_expired` past 7 days, 409 `request_not_pending` once answered.',
    request: { params: IdParam },
    responses: { 200: jsonResponse(RequestEnvelope, 'Answered'), ...errors(400, 401, 404, 409) },
  });

function answered(outcome: AnswerOutcome) {
  switch (outcome.kind) {
    case 'answered':
      return outcome.request;
    case 'not_found':
      throw new ApiError('not_found', 'No such incoming friend request');
    case 'request_expired':
      throw new ApiError('request_expired', 'This request has expired');
    case 'request_not_pending':
      throw new ApiError('request_not_pending', `This request is already ${outcome.request.status}`);
  }
}

export const friendRequestRoutes = new OpenAPIHono<AppEnv>({ defaultHook })
  .openapi(send, async (c) => {
    const me = c.var.auth.userId;
    const { toUserId, message } = c.req.valid('json');
    if (toUserId === me) throw new ApiError('validation_failed', 'toUserId: you cannot befriend yourself');
    const target = await getProfile({ env: c.env, db: c.var.pg.db, log: c.var.log }, toUserId);
    if (!target) throw new ApiError('not_found', 'No such user');
    if (c.var.auth.isBot || target.isBot) throw new ApiError('not_for_bots', 'Bots have no friends: add a bot to a group or chat with your own bot directly');
    const now = new Date();
    const outcome = await sendRequest(c.var.pg.db, me, toUserId, message, now);
    switch (outcome.kind) {
      case 'blocked':
        throw new ApiError('blocked', 'This user does not accept requests from you');
      case 'blocked_by_you':
        throw new ApiError('blocked_by_you', 'You have blocked this user; unblock them first');
      case 'already_friends':
        throw new ApiError('already_friends', 'You are already friends');
      case 'duplicate_request':
        throw new ApiError('duplicate_request', 'You already asked within the last 24 hours');
      case 'created': {
        const request = requestView(outcome.request, now);
        notifyUser(c, toUserId, { type: 'friend.request', request });
        c.var.log('social.request', { userId: me, toUserId, requestId: request.id });
        return c.json({ request }, 201);
      }
      case 'accepted':
        notifyUser(c, toUserId, { type: 'friend.accepted', userId: me });
        c.var.log('social.befriend', { userId: me, friendId: toUserId, requestId: outcome.theirs.id });
        return c.json({ request: requestView(outcome.request, now) }, 201);
    }
  })
  .openapi(list, async (c) => {
    const { direction, limit, cursor } = c.req.valid('query');
    const now = new Date();
    const rows = await listRequests(c.var.pg.db, c.var.auth.userId, direction, now, limit, decodeTimeCursor(cursor));
    return c.json(pageOf(rows, limit, (r) => [r.createdAt.toISOString(), r.id], (r) => requestView(r, now)), 200);
  })
  .openapi(answerDoc('accept'), async (c) => {
    const me = c.var.auth.userId;
    const now = new Date();
    const request = answered(await answerRequest(c.var.pg.db, c.req.valid('param').id, me, 'accepted', now));
    notifyUser(c, request.fromUserId, { type: 'friend.accepted', userId: me });
    c.var.log('social.befriend', { userId: me, friendId: request.fromUserId, requestId: request.id });
    return c.json({ request: requestView(request, now) }, 200);
  })
  .openapi(answerDoc('reject'), async (c) => {
    const now = new Date();
    const request = answered(await answerRequest(c.var.pg.db, c.req.valid('param').id, c.var.auth.userId, 'rejected', now));
    return c.json({ request: requestView(request, now) }, 200);
  });
