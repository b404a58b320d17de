/**
 * Blocks reach the conversations the pair shares: each ConversationDO reads
 * the blocks among its members again from Postgres (the record), refuses
 * sends and typing between a blocked pair in their single chat, and keeps
 * typing and read receipts from crossing a block in groups. The block
 * routes call this after their commit.
 */
import { and, eq } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { conversationMembers } from '../../db/schema.ts';
import type { Database } from '../../services/db.ts';

/** Every conversation `a` and `b` are both members of: their single chat and shared groups. */
async function shared(db: Database, a: string, b: string): Promise<string[]> {
  const other = alias(conversationMembers, 'other');
  const rows = await db
    .select({ id: conversationMembers.conversationId })
    .from(conversationMembers)
    .innerJoin(other, and(eq(other.conversationId, conversationMembers.conversationId), eq(other.userId, b)))
    .where(eq(conversationMembers.userId, a));
  return rows.map((r) => r.id);
}

/** Makes a block (or its lifting) hold in every conversation the pair shares. Idempotent. */
export async function mirrorBlock(env: Env, db: Database, blockerId: string, blockedId: string): Promise<void> {
  const ids = await shared(db, blockerId, blockedId);
  await Promise.all(ids.map((id) => env.CONVERSATIONS.getByName(id).refreshBlocks()));
}
