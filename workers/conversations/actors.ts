/**
 * The Worker's side of the actors for conversations: mirroring Postgres
 * (membership and settings) into the ConversationDO — which turns each
 * change into events of the stream — telling members' UserDOs about a
 * changed conversation, and calling an actor on a member's behalf.
 *
 * Postgres is the truth for membership and settings; the DO's mirror is
 * applied after commit and ordered by `members_version`, so a late or
 * repeated mirror is harmless. If a mirror was lost (the Worker died between
 * commit and RPC), the first call the DO refuses as `not_member`/`not_found`
 * for a user that Postgres lists repairs it: `asMember` re-mirrors and
 * retries once.
 */
import type { Context } from 'hono';
import type { ConversationMirror, Failure } from '../../durable-objects/contracts.ts';
import type { ConversationView } from '../../protocol/conversations.ts';
import type { AppEnv } from '../context.ts';
import { ApiError } from '../errors.ts';
import { throwFailure } from './failures.ts';
import { type Change, loadForMember, type Loaded, toView } from './store.ts';

type Ctx = Context<AppEnv>;

export function conversationMirror({ row, members }: Loaded, cause?: { actorId: string; left?: string[] }): ConversationMirror {
  return {
    conversationId: row.id,
    kind: row.kind,
    version: row.membersVersion,
    members: members.map(({ userId, role }) => ({ userId, role })),
    settings: {
      ...(row.name != null ? { name: row.name } : {}),
      ...(row.avatarFileId != null ? { avatarFileId: row.avatarFileId } : {}),
      ...(row.announcement != null ? { announcement: row.announcement } : {}),
      ...(row.messageTtlSeconds > 0 ? { messageTtlSeconds: row.messageTtlSeconds } : {}),
    },
    ...(cause ? { cause } : {}),
  };
}

/** Retried once: a removal whose mirror is lost would let the removed member keep writing until the next change. */
export async function mirror(env: Env, loaded: Loaded, cause?: { actorId: string; left?: string[] }): Promise<void> {
  const apply = () => env.CONVERSATIONS.getByName(loaded.row.id).setMirror(conversationMirror(loaded, cause));
  await apply().catch(apply);
}

/**
 * Tells every member's UserDO, and `formerMembers`' (who drop it from their
 * index because the view no longer lists them), in the background.
 */
export function announce(c: Ctx, view: ConversationView, formerMembers: string[] = []): Promise<void> {
  const ids = new Set([...view.members.map((m) => m.userId), ...formerMembers]);
  return Promise.allSettled([...ids].map((id) => c.env.USERS.getByName(id).conversationUpdated(view))).then((results) => {
    const failed = results.filter((r) => r.status === 'rejected').length;
    if (failed) c.var.log('conversation.announce_failed', { conversationId: view.id, failed });
  });
}

/**
 * After a committed change: the DO mirror first (awaited — the next send must
 * see it, and it appends the change's events), then the notices, which need
 * the mirror (a newcomer's UserDO asks the DO for its counters) but not the
 * response.
 */
export async function publish(c: Ctx, change: Change): Promise<void> {
  await mirror(c.env, change.after, { actorId: change.actorId, ...(change.left ? { left: change.left } : {}) });
  const remaining = new Set(change.after.members.map((m) => m.userId));
  const former = change.before.members.map((m) => m.userId).filter((id) => !remaining.has(id));
  c.executionCtx.waitUntil(announce(c, toView(change.after), former));
}

type Ok<R> = Extract<R, { ok: true }>;

/**
 * A call to an actor for the signed-in user on conversation `id`; failures become API errors. The
 * user's UserDO vouches for the id first (its index, else Postgres), so a made-up id never addresses —
 * and never creates — a ConversationDO.
 */
export async function asMember<R>(c: Ctx, id: string, call: () => R): Promise<Ok<Awaited<R>>> {
  const membership = await c.env.USERS.getByName(c.var.auth.userId).membership(id);
  if (membership === 'not_found') throw new ApiError('not_found', 'No such conversation');
  if (membership === 'not_member') throw new ApiError('not_member', 'You are not a member of this conversation');
  let result = (await call()) as Ok<Awaited<R>> | Failure;
  if (!result.ok && (result.code === 'not_member' || result.code === 'not_found')) {
    const loaded = await loadForMember(c.var.pg.db, id, c.var.auth.userId); // 404 / 403 when Postgres agrees
    await mirror(c.env, loaded);
    result = (await call()) as Ok<Awaited<R>> | Failure;
  }
  if (!result.ok) throwFailure(result);
  return result;
}

/** The API's conversation for the signed-in user: the view plus their counters from the DO (none yet when `fresh`). */
export async function withCounters(c: Ctx, loaded: Loaded, fresh = false) {
  const view = toView(loaded);
  if (fresh) return { ...view, lastSeq: 0, unreadCount: 0, mentionCount: 0 };
  const me = c.var.auth.userId;
  const s = await asMember(c, loaded.row.id, () => c.env.CONVERSATIONS.getByName(loaded.row.id).summary(me));
  return { ...view, lastSeq: s.lastSeq, unreadCount: s.unreadCount, mentionCount: s.mentionCount, ...(s.lastMessage ? { lastMessage: s.lastMessage } : {}) };
}
