/**
 * Conversations and their members in Postgres — the source of truth for
 * membership (the ConversationDO keeps a mirror, see mirror.ts). Every
 * membership change runs in one transaction that locks the conversation row,
 * checks the caller's role, changes the rows and bumps `members_version`,
 * so concurrent changes are serialized and each mirror has its own version.
 */
import { and, asc, eq, inArray, or, sql } from 'drizzle-orm';
import { blocks, conversationMembers, conversations, friendships, users } from '../../db/schema.ts';
import type { ConversationView, Role } from '../../durable-objects/contracts.ts';
import { GROUP_MAX_MEMBERS, type PatchConversationBody } from '../../protocol/conversations.ts';
import { botsOf } from '../accounts/bots.ts';
import { ApiError } from '../errors.ts';
import { uuidv7 } from '../../lib/ids.ts';
import type { Database, Tx } from '../../services/db.ts';
import { assertCanStartSingle } from './eligibility.ts';
import { pairKey } from '../social/pair.ts';
import { canManage, canRemove, type MemberRow, nextOwner } from './rules.ts';

export type ConversationRow = typeof conversations.$inferSelect;

/** A conversation with its members, oldest member first. */
export interface Loaded {
  row: ConversationRow;
  members: MemberRow[];
}

/**
 * What a change leaves behind: the state before and after (both to notify), who made it, and which
 * departures were leaves (the ConversationDO turns the difference into events).
 */
export interface Change {
  before: Loaded;
  after: Loaded;
  actorId: string;
  left?: string[];
}

export function toView({ row, members }: Loaded): ConversationView {
  return {
    id: row.id,
    kind: row.kind,
    ...(row.name != null ? { name: row.name } : {}),
    ...(row.avatarFileId != null ? { avatarFileId: row.avatarFileId } : {}),
    ...(row.announcement != null ? { announcement: row.announcement } : {}),
    ...(row.messageTtlSeconds > 0 ? { messageTtlSeconds: row.messageTtlSeconds } : {}),
    members: members.map((m) => ({ userId: m.userId, role: m.role, joinedAt: m.joinedAt.toISOString() })),
    createdAt: row.createdAt.toISOString(),
  };
}

async function membersOf(db: Database | Tx, id: string): Promise<MemberRow[]> {
  return db
    .select({ userId: conversationMembers.userId, role: conversationMembers.role, joinedAt: conversationMembers.joinedAt })
    .from(conversationMembers)
    .where(eq(conversationMembers.conversationId, id))
    .orderBy(asc(conversationMembers.joinedAt), asc(conversationMembers.userId));
}

export async function loadConversation(db: Database | Tx, id: string, opts: { lock?: boolean } = {}): Promise<Loaded | undefined> {
  const query = db.select().from(conversations).where(eq(conversations.id, id));
  const [row] = opts.lock ? await query.for('update') : await query;
  return row && { row, members: await membersOf(db, id) };
}

/** The conversation, if `userId` is a member: 404 `not_found` / 403 `not_member` otherwise. */
export function memberOf(loaded: Loaded | undefined, userId: string): MemberRow {
  if (!loaded) throw new ApiError('not_found', 'No such conversation');
  const me = loaded.members.find((m) => m.userId === userId);
  if (!me) throw new ApiError('not_member', 'You are not a member of this conversation');
  return me;
}

export async function loadForMember(db: Database, id: string, userId: string): Promise<Loaded> {
  const loaded = await loadConversation(db, id);
  memberOf(loaded, userId);
  return loaded!;
}

/**
 * Who `me` may put in a group: existing users (400 `validation_failed` listing the unknown ones) who
 * are their friends or their own bots (403 `not_friends`) — and so never someone either side blocked (blocking ends the
 * friendship; 403 `blocked` says which). A stranger cannot pull anyone into a conversation.
 */
async function requireAddable(db: Database | Tx, me: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const found = new Set((await db.select({ id: users.id }).from(users).where(inArray(users.id, ids))).map((r) => r.id));
  const unknown = ids.filter((id) => !found.has(id));
  if (unknown.length) throw new ApiError('validation_failed', `Unknown user ids: ${unknown.join(', ')}`, { details: { unknownUserIds: unknown } });
  const blocked = await db
    .select({ a: blocks.blockerId, b: blocks.blockedId })
    .from(blocks)
    .where(or(and(eq(blocks.blockerId, me), inArray(blocks.blockedId, ids)), and(inArray(blocks.blockerId, ids), eq(blocks.blockedId, me))));
  if (blocked.length) {
    const who = [...new Set(blocked.map((r) => (r.a === me ? r.b : r.a)))];
    throw new ApiError('blocked', `You cannot add ${who.join(', ')}: one of you blocked the other`, { details: { userIds: who } });
  }
  const friends = new Set(
    (await db.select({ id: friendships.friendId }).from(friendships).where(and(eq(friendships.userId, me), inArray(friendships.friendId, ids)))).map((r) => r.id),
  );
  const ownBots = await botsOf(db, me, ids.filter((id) => !friends.has(id)));
  const strangers = ids.filter((id) => !friends.has(id) && !ownBots.has(id));
  if (strangers.length) throw new ApiError('not_friends', `You can only add your friends: ${strangers.join(', ')}`, { details: { userIds: strangers } });
}

/**
 * The single conversation of a pair, created once however many callers race:
 * INSERT … ON CONFLICT (pair_key) DO NOTHING waits for a concurrent insert to
 * commit, and the SELECT after it sees that row. Eligibility (friends, not
 * blocked) is checked in the same transaction, under the social pair lock.
 */
export async function findOrCreateSingle(db: Database, me: string, peerId: string): Promise<{ loaded: Loaded; created: boolean }> {
  const key = pairKey(me, peerId);
  return db.transaction(async (tx) => {
    await assertCanStartSingle(tx, me, peerId);
    const id = uuidv7();
    const inserted = await tx
      .insert(conversations)
      .values({ id, kind: 'single', pairKey: key })
      .onConflictDoNothing({ target: conversations.pairKey })
      .returning({ id: conversations.id });
    if (inserted.length) {
      await tx.insert(conversationMembers).values([me, peerId].map((userId) => ({ conversationId: id, userId, role: 'member' as const })));
    }
    const [row] = await tx.select().from(conversations).where(eq(conversations.pairKey, key));
    return { loaded: { row: row!, members: await membersOf(tx, row!.id) }, created: inserted.length > 0 };
  });
}

export async function createGroup(db: Database, me: string, name: string, memberIds: string[]): Promise<Loaded> {
  const others = [...new Set(memberIds)].filter((id) => id !== me);
  return db.transaction(async (tx) => {
    await requireAddable(tx, me, others);
    const id = uuidv7();
    await tx.insert(conversations).values({ id, kind: 'group', name });
    const rows = [{ userId: me, role: 'owner' as const }, ...others.map((userId) => ({ userId, role: 'member' as const }))];
    await tx.insert(conversationMembers).values(rows.map((r) => ({ conversationId: id, ...r })));
    return (await loadConversation(tx, id))!;
  });
}

/** Locks the conversation for a change by `userId` to a group: 404 / 403 `not_member` / 400 for a single conversation. */
async function lockGroup(tx: Tx, id: string, userId: string, action: string): Promise<{ loaded: Loaded; me: MemberRow }> {
  const loaded = await loadConversation(tx, id, { lock: true });
  const me = memberOf(loaded, userId);
  if (loaded!.row.kind !== 'group') throw new ApiError('validation_failed', `A single conversation cannot ${action}`);
  return { loaded: loaded!, me };
}

function requireManager(me: MemberRow): void {
  if (!canManage(me.role)) throw new ApiError('forbidden', 'Only the owner or an admin can do that');
}

/** Bumps `members_version` (the mirror's version) and reads the new state, inside the change's transaction. */
async function commitChange(tx: Tx, before: Loaded, actorId: string, left?: string[]): Promise<Change> {
  await tx
    .update(conversations)
    .set({ membersVersion: sql`${conversations.membersVersion} + 1`, updatedAt: new Date() })
    .where(eq(conversations.id, before.row.id));
  return { before, after: (await loadConversation(tx, before.row.id))!, actorId, ...(left ? { left } : {}) };
}

/**
 * Details and settings: a group's owner or admin changes any of them; in a single conversation either
 * member may turn disappearing messages on or off, and nothing else.
 */
export async function patchConversation(db: Database, id: string, userId: string, patch: PatchConversationBody): Promise<Change> {
  return db.transaction(async (tx) => {
    const loaded = await loadConversation(tx, id, { lock: true });
    const me = memberOf(loaded, userId);
    if (loaded!.row.kind === 'single') {
      const other = Object.keys(patch).filter((k) => k !== 'messageTtlSeconds');
      if (other.length) throw new ApiError('validation_failed', `A single conversation has no ${other.join(', ')}; only messageTtlSeconds can be set`);
    } else {
      requireManager(me);
    }
    await tx.update(conversations).set({ ...patch, updatedAt: new Date() }).where(eq(conversations.id, id));
    return commitChange(tx, loaded!, userId);
  });
}

/** Adds users as `member`; existing members are skipped. `changed` is false when nobody was new. */
export async function addMembers(db: Database, id: string, userId: string, userIds: string[]): Promise<Change & { changed: boolean }> {
  return db.transaction(async (tx) => {
    const { loaded, me } = await lockGroup(tx, id, userId, 'take more members');
    requireManager(me);
    const present = new Set(loaded.members.map((m) => m.userId));
    const added = [...new Set(userIds)].filter((u) => !present.has(u));
    if (added.length === 0) return { before: loaded, after: loaded, actorId: userId, changed: false };
    await requireAddable(tx, userId, added);
    if (present.size + added.length > GROUP_MAX_MEMBERS) {
      throw new ApiError('group_full', `A group has at most ${GROUP_MAX_MEMBERS} members`);
    }
    await tx.insert(conversationMembers).values(added.map((u) => ({ conversationId: id, userId: u, role: 'member' as const })));
    return { ...(await commitChange(tx, loaded, userId)), changed: true };
  });
}

function target(loaded: Loaded, me: MemberRow, targetId: string, action: string): MemberRow {
  if (targetId === me.userId) throw new ApiError('validation_failed', `You cannot ${action} yourself`);
  const found = loaded.members.find((m) => m.userId === targetId);
  if (!found) throw new ApiError('not_found', 'That user is not a member of this conversation');
  return found;
}

export async function removeMember(db: Database, id: string, userId: string, targetId: string): Promise<Change> {
  return db.transaction(async (tx) => {
    const { loaded, me } = await lockGroup(tx, id, userId, 'lose members');
    requireManager(me);
    const victim = target(loaded, me, targetId, 'remove (leave the conversation instead)');
    if (!canRemove(me.role, victim.role)) throw new ApiError('forbidden', 'Admins can remove plain members only');
    await tx.delete(conversationMembers).where(and(eq(conversationMembers.conversationId, id), eq(conversationMembers.userId, targetId)));
    return commitChange(tx, loaded, userId);
  });
}

/** The owner makes a member an admin or an admin a member. */
export async function setRole(db: Database, id: string, userId: string, targetId: string, role: Exclude<Role, 'owner'>): Promise<Change> {
  return db.transaction(async (tx) => {
    const { loaded, me } = await lockGroup(tx, id, userId, 'have admins');
    if (me.role !== 'owner') throw new ApiError('forbidden', 'Only the owner can change roles');
    const member = target(loaded, me, targetId, 'change the role of');
    if (member.role === role) return { before: loaded, after: loaded, actorId: userId };
    await tx
      .update(conversationMembers)
      .set({ role })
      .where(and(eq(conversationMembers.conversationId, id), eq(conversationMembers.userId, targetId)));
    return commitChange(tx, loaded, userId);
  });
}

/** Leaves a group; a leaving owner hands ownership on (rules.ts `nextOwner`). */
export async function leave(db: Database, id: string, userId: string): Promise<Change> {
  return db.transaction(async (tx) => {
    const { loaded, me } = await lockGroup(tx, id, userId, 'be left');
    await tx.delete(conversationMembers).where(and(eq(conversationMembers.conversationId, id), eq(conversationMembers.userId, userId)));
    const heir = me.role === 'owner' ? nextOwner(loaded.members.filter((m) => m.userId !== userId)) : undefined;
    if (heir) {
      await tx
        .update(conversationMembers)
        .set({ role: 'owner' })
        .where(and(eq(conversationMembers.conversationId, id), eq(conversationMembers.userId, heir.userId)));
    }
    return commitChange(tx, loaded, userId, [userId]);
  });
}
