/** Who may open a single conversation with whom: friends (or a bot and its owner), not blocked either way, not yourself. */
import { botsOf } from '../accounts/bots.ts';
import { ApiError } from '../errors.ts';
import type { Tx } from '../../services/db.ts';
import { isBlockedEitherWay } from '../social/blocks.ts';
import { areFriends } from '../social/friendships.ts';
import { lockPair } from '../social/pair.ts';

/**
 * Inside the creating transaction: takes the pair lock the social routes take
 * (so a block or unfriend racing this create is ordered before or after it,
 * never between the check and the insert), then 403 `blocked` when either
 * has blocked the other (checked first: blocking also ends the friendship,
 * and API.md says a blocked user hears `blocked`), else 403 `not_friends`
 * unless the two are friends or one is the other's bot. An unknown peer is
 * simply not a friend.
 */
export async function assertCanStartSingle(tx: Tx, me: string, peerId: string): Promise<void> {
  if (peerId === me) throw new ApiError('validation_failed', 'You cannot start a conversation with yourself');
  await lockPair(tx, me, peerId);
  if (await isBlockedEitherWay(tx, me, peerId)) throw new ApiError('blocked', 'You cannot message this user');
  if (await areFriends(tx, me, peerId)) return;
  // A bot and its owner need no friendship (a bot cannot have friends).
  if ((await botsOf(tx, me, [peerId])).size || (await botsOf(tx, peerId, [me])).size) return;
  throw new ApiError('not_friends', 'You can only start a conversation with a friend or a bot of yours');
}
