/** Friendships: two rows per pair, one per direction, always written and removed together. */
import { and, desc, eq, inArray, lt, or, sql } from 'drizzle-orm';
import { blocks, friendRequests, friendships, users } from '../../db/schema.ts';
import type { Database, Tx } from '../../services/db.ts';
import { lockPair, type Queryable } from './pair.ts';
import { PROFILE_COLUMNS, type Profile } from './profiles.ts';

export async function areFriends(db: Queryable, a: string, b: string): Promise<boolean> {
  const rows = await db
    .select({ one: friendships.userId })
    .from(friendships)
    .where(and(eq(friendships.userId, a), eq(friendships.friendId, b)))
    .limit(1);
  return rows.length > 0;
}

/**
 * Makes `a` and `b` friends inside the caller's transaction (which holds the
 * pair lock). ON CONFLICT DO NOTHING: a friendship that already exists stays
 * as it was, with its original `since`. Any request still pending between the
 * two is settled as accepted, so none lingers beside the friendship.
 */
export async function befriend(tx: Tx, a: string, b: string, now: Date): Promise<void> {
  await tx
    .insert(friendships)
    .values([
      { userId: a, friendId: b, createdAt: now },
      { userId: b, friendId: a, createdAt: now },
    ])
    .onConflictDoNothing();
  await tx
    .update(friendRequests)
    .set({ status: 'accepted', respondedAt: now })
    .where(
      and(
        eq(friendRequests.status, 'pending'),
        or(and(eq(friendRequests.fromUserId, a), eq(friendRequests.toUserId, b)), and(eq(friendRequests.fromUserId, b), eq(friendRequests.toUserId, a))),
      ),
    );
}

/** Removes both rows; false when the two were not friends. */
export async function unfriend(db: Database, me: string, other: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    await lockPair(tx, me, other);
    const removed = await tx
      .delete(friendships)
      .where(or(and(eq(friendships.userId, me), eq(friendships.friendId, other)), and(eq(friendships.userId, other), eq(friendships.friendId, me))))
      .returning({ userId: friendships.userId });
    return removed.length > 0;
  });
}

export interface FriendRow {
  since: Date;
  user: Profile;
}

/** `me`'s friends, newest friendship first; `(since, friendId)` is the keyset, so pages never skip or repeat. */
export async function listFriends(db: Database, me: string, limit: number, after?: { at: Date; id: string }): Promise<FriendRow[]> {
  return db
    .select({ since: friendships.createdAt, user: PROFILE_COLUMNS })
    .from(friendships)
    .innerJoin(users, eq(users.id, friendships.friendId))
    .where(
      and(
        eq(friendships.userId, me),
        after ? or(lt(friendships.createdAt, after.at), and(eq(friendships.createdAt, after.at), lt(friendships.friendId, after.id))) : undefined,
      ),
    )
    .orderBy(desc(friendships.createdAt), desc(friendships.friendId))
    .limit(limit + 1);
}

/**
 * Which of `ids` are `me`'s friends with no block between them either way, in
 * one query: the people whose presence `me` may see. (A block ends the
 * friendship in the same transaction; the block test keeps a race from ever
 * showing presence across one.)
 */
export async function visibleFriends(db: Queryable, me: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .select({ id: friendships.friendId })
    .from(friendships)
    .where(
      and(
        eq(friendships.userId, me),
        inArray(friendships.friendId, ids),
        sql`not exists (select 1 from ${blocks} where (${blocks.blockerId} = ${me} and ${blocks.blockedId} = ${friendships.friendId})
          or (${blocks.blockerId} = ${friendships.friendId} and ${blocks.blockedId} = ${me}))`,
      ),
    );
  return new Set(rows.map((r) => r.id));
}
