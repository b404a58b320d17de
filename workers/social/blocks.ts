/**
 * Blocks. A block is one row (blocker → blocked); it ends the friendship and
 * closes pending requests both ways, and stops requests (and, through the
 * messaging core, messages) between the two while it stands.
 */
import { and, eq, or } from 'drizzle-orm';
import { blocks, friendRequests, friendships } from '../../db/schema.ts';
import type { Database } from '../../services/db.ts';
import { lockPair, type Queryable } from './pair.ts';

/** Has `blocker` blocked `blocked`? */
export async function blockedBy(db: Queryable, blocker: string, blocked: string): Promise<boolean> {
  const rows = await db
    .select({ one: blocks.blockerId })
    .from(blocks)
    .where(and(eq(blocks.blockerId, blocker), eq(blocks.blockedId, blocked)))
    .limit(1);
  return rows.length > 0;
}

/** Has either of `a` and `b` blocked the other? What the messaging core asks before a single-chat send. */
export async function isBlockedEitherWay(db: Queryable, a: string, b: string): Promise<boolean> {
  const rows = await db
    .select({ one: blocks.blockerId })
    .from(blocks)
    .where(or(and(eq(blocks.blockerId, a), eq(blocks.blockedId, b)), and(eq(blocks.blockerId, b), eq(blocks.blockedId, a))))
    .limit(1);
  return rows.length > 0;
}

/** Idempotent. Pending requests both ways become `rejected` (not deleted: their ids stay answerable with 409). */
export async function block(db: Database, blocker: string, blocked: string, now: Date): Promise<void> {
  await db.transaction(async (tx) => {
    await lockPair(tx, blocker, blocked);
    await tx.insert(blocks).values({ blockerId: blocker, blockedId: blocked, createdAt: now }).onConflictDoNothing();
    await tx
      .delete(friendships)
      .where(or(and(eq(friendships.userId, blocker), eq(friendships.friendId, blocked)), and(eq(friendships.userId, blocked), eq(friendships.friendId, blocker))));
    await tx
      .update(friendRequests)
      .set({ status: 'rejected', respondedAt: now })
      .where(
        and(
          eq(friendRequests.status, 'pending'),
          or(
            and(eq(friendRequests.fromUserId, blocker), eq(friendRequests.toUserId, blocked)),
            and(eq(friendRequests.fromUserId, blocked), eq(friendRequests.toUserId, blocker)),
          ),
        ),
      );
  });
}

/** Idempotent. Lifts only the caller's own block; a block the other side holds stays. Nothing ended by the block comes back. */
export async function unblock(db: Database, blocker: string, blocked: string): Promise<void> {
  await db.transaction(async (tx) => {
    await lockPair(tx, blocker, blocked);
    await tx.delete(blocks).where(and(eq(blocks.blockerId, blocker), eq(blocks.blockedId, blocked)));
  });
}
