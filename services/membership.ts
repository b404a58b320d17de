/**
 * Is a user a member of a conversation, per Postgres (the record)? Asked
 * before any Durable Object is addressed for a conversation id that nothing
 * else vouches for, so a made-up id never creates a ConversationDO.
 */
import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { conversationMembers, conversations } from '../db/schema.ts';

export type Membership = 'member' | 'not_member' | 'not_found';

export async function membershipOf(db: Db, conversationId: string, userId: string): Promise<Membership> {
  const [row] = await db
    .select({ id: conversations.id, member: conversationMembers.userId })
    .from(conversations)
    .leftJoin(conversationMembers, and(eq(conversationMembers.conversationId, conversations.id), eq(conversationMembers.userId, userId)))
    .where(eq(conversations.id, conversationId));
  if (!row) return 'not_found';
  return row.member ? 'member' : 'not_member';
}
