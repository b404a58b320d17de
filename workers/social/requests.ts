/**
 * Friend requests: the rules of sending, answering and expiry.
 *
 * A request lives 7 days. Its status says `expired` as soon as its time is
 * up (computed on read); the row is marked `expired` when something touches
 * it (a send or an answer in the pair), so old rows settle without a sweeper.
 *
 * Every change runs in one transaction under the pair lock (pair.ts). The
 * functions return outcome unions instead of throwing inside the transaction,
 * so what they marked on the way (an expiry) commits even when the answer is
 * a refusal.
 */
import { and, desc, eq, gt, lt, lte, or } from 'drizzle-orm';
import { friendRequests } from '../../db/schema.ts';
import type { FriendRequest } from '../../protocol/social.ts';

type FriendRequestView = import('zod').infer<typeof FriendRequest>;
import { uuidv7 } from '../../lib/ids.ts';
import type { Database, Tx } from '../../services/db.ts';
import { blockedBy } from './blocks.ts';
import { areFriends, befriend } from './friendships.ts';
import { lockPair } from './pair.ts';

export type RequestRow = typeof friendRequests.$inferSelect;

const DAY_MS = 24 * 60 * 60 * 1000;
export const REQUEST_TTL_MS = 7 * DAY_MS;
/** A second request to the same person within this window is a duplicate; after it, it replaces the first. */
export const RESEND_AFTER_MS = DAY_MS;

export function requestView(row: RequestRow, now: Date): FriendRequestView {
  const lapsed = row.status === 'pending' && row.expiresAt.getTime() <= now.getTime();
  return {
    id: row.id,
    fromUserId: row.fromUserId,
    toUserId: row.toUserId,
    ...(row.message ? { message: row.message } : {}),
    status: lapsed ? 'expired' : row.status,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
  };
}

const between = (from: string, to: string) => and(eq(friendRequests.fromUserId, from), eq(friendRequests.toUserId, to));

/** Marks the pair's lapsed pending requests (both ways) `expired`. */
async function settleLapsed(tx: Tx, a: string, b: string, now: Date): Promise<void> {
  await tx
    .update(friendRequests)
    .set({ status: 'expired' })
    .where(and(eq(friendRequests.status, 'pending'), lte(friendRequests.expiresAt, now), or(between(a, b), between(b, a))));
}

export type SendOutcome =
  | { kind: 'created'; request: RequestRow }
  /** They had asked first: theirs is accepted, and `request` (ours) is recorded as accepted too. */
  | { kind: 'accepted'; request: RequestRow; theirs: RequestRow }
  | { kind: 'blocked' | 'blocked_by_you' | 'already_friends' | 'duplicate_request' };

export async function sendRequest(db: Database, from: string, to: string, message: string | undefined, now: Date): Promise<SendOutcome> {
  return db.transaction(async (tx): Promise<SendOutcome> => {
    await lockPair(tx, from, to);
    if (await blockedBy(tx, to, from)) return { kind: 'blocked' };
    if (await blockedBy(tx, from, to)) return { kind: 'blocked_by_you' };
    if (await areFriends(tx, from, to)) return { kind: 'already_friends' };
    await settleLapsed(tx, from, to, now);
    const fresh = { fromUserId: from, toUserId: to, message: message || null, createdAt: now, expiresAt: new Date(now.getTime() + REQUEST_TTL_MS) };

    // Asking someone who already asked you is a yes: their request is accepted and the friendship made.
    const [theirs] = await tx
      .update(friendRequests)
      .set({ status: 'accepted', respondedAt: now })
      .where(and(between(to, from), eq(friendRequests.status, 'pending'), gt(friendRequests.expiresAt, now)))
      .returning();
    if (theirs) {
      const [request] = await tx.insert(friendRequests).values({ ...fresh, id: uuidv7(now.getTime()), status: 'accepted', respondedAt: now }).returning();
      await befriend(tx, from, to, now);
      return { kind: 'accepted', request: request!, theirs };
    }

    const [mine] = await tx.select().from(friendRequests).where(and(between(from, to), eq(friendRequests.status, 'pending'))).limit(1);
    if (mine) {
      if (now.getTime() - mine.createdAt.getTime() < RESEND_AFTER_MS) return { kind: 'duplicate_request' };
      // Older than a day but alive: the new one replaces it. The old one must leave `pending`
      // first — friend_requests_pending_pair_idx allows one pending request per direction.
      await tx.update(friendRequests).set({ status: 'expired' }).where(and(eq(friendRequests.id, mine.id), eq(friendRequests.status, 'pending')));
    }
    const [request] = await tx.insert(friendRequests).values({ ...fresh, id: uuidv7(now.getTime()) }).returning();
    return { kind: 'created', request: request! };
  });
}

export type AnswerOutcome =
  | { kind: 'answered'; request: RequestRow }
  | { kind: 'not_found' }
  | { kind: 'request_expired'; request: RequestRow }
  | { kind: 'request_not_pending'; request: RequestRow };

/**
 * The recipient accepts or rejects. Anyone else gets `not_found`, exactly as
 * for an id that does not exist, so request ids reveal nothing.
 *
 * The winner among racing answers (two accepts, accept vs reject, accept vs
 * a block) is the one whose `UPDATE … WHERE status = 'pending'` returns the
 * row; the others see it answered and get `request_not_pending`.
 */
export async function answerRequest(db: Database, id: string, me: string, answer: 'accepted' | 'rejected', now: Date): Promise<AnswerOutcome> {
  const [found] = await db.select().from(friendRequests).where(eq(friendRequests.id, id)).limit(1);
  if (!found || found.toUserId !== me) return { kind: 'not_found' };
  return db.transaction(async (tx): Promise<AnswerOutcome> => {
    await lockPair(tx, found.fromUserId, me);
    const [won] = await tx
      .update(friendRequests)
      .set({ status: answer, respondedAt: now })
      .where(and(eq(friendRequests.id, id), eq(friendRequests.status, 'pending'), gt(friendRequests.expiresAt, now)))
      .returning();
    if (won) {
      if (answer === 'accepted') await befriend(tx, won.fromUserId, won.toUserId, now);
      return { kind: 'answered', request: won };
    }
    await settleLapsed(tx, found.fromUserId, me, now);
    const [current] = await tx.select().from(friendRequests).where(eq(friendRequests.id, id)).limit(1);
    if (!current) return { kind: 'not_found' };
    return { kind: current.status === 'expired' ? 'request_expired' : 'request_not_pending', request: current };
  });
}

/** Pending, unexpired requests to (`incoming`) or from (`outgoing`) `me`, newest first, keyset `(createdAt, id)`. */
export async function listRequests(
  db: Database,
  me: string,
  direction: 'incoming' | 'outgoing',
  now: Date,
  limit: number,
  after?: { at: Date; id: string },
): Promise<RequestRow[]> {
  const mine = direction === 'incoming' ? eq(friendRequests.toUserId, me) : eq(friendRequests.fromUserId, me);
  return db
    .select()
    .from(friendRequests)
    .where(
      and(
        mine,
        eq(friendRequests.status, 'pending'),
        gt(friendRequests.expiresAt, now),
        after ? or(lt(friendRequests.createdAt, after.at), and(eq(friendRequests.createdAt, after.at), lt(friendRequests.id, after.id))) : undefined,
      ),
    )
    .orderBy(desc(friendRequests.createdAt), desc(friendRequests.id))
    .limit(limit + 1);
}
