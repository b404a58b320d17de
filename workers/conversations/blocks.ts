/**
 * Blocks reach the send path through the pair's single conversation: its
 * ConversationDO keeps the pair's blocks and refuses sends while one stands
 * (403 `blocked`). The block routes call this after their commit.
 */
import { eq } from 'drizzle-orm';
import { conversations } from '../../db/schema.ts';
import type { Database } from '../../services/db.ts';
import { pairKey } from '../social/pair.ts';

/** Mirrors a block (or its lifting) into the pair's single conversation, if they have one. Idempotent. */
export async function mirrorBlock(env: Env, db: Database, blockerId: string, blockedId: string, blocked: boolean): Promise<void> {
  const [row] = await db.select({ id: conversations.id }).from(conversations).where(eq(conversations.pairKey, pairKey(blockerId, blockedId)));
  if (row) await env.CONVERSATIONS.getByName(row.id).setBlock(blockerId, blockedId, blocked);
}
