/**
 * The ConversationDO's Postgres side: the outbox flush and cold history.
 */
import { and, asc, between, eq } from 'drizzle-orm';
import { messages } from '../db/schema.ts';
import type { Message } from '../protocol/messages.ts';
import { type Ctx, withDb } from './postgres.ts';

/** Idempotent: `(conversation_id, seq)` is the key, so a retried batch changes nothing. */
export function flushToPostgres(env: Env, ctx: Ctx, batch: Message[]): Promise<void> {
  return withDb(env, ctx, async (db) => {
    await db
      .insert(messages)
      .values(
        batch.map((m) => ({
          conversationId: m.conversationId,
          seq: m.seq,
          id: m.id,
          senderId: m.senderId,
          clientMsgId: m.clientMsgId,
          type: m.type,
          content: m.content,
          fileId: m.fileId ?? null,
          replyToSeq: m.replyToSeq ?? null,
          mentions: m.mentions ?? null,
          createdAt: new Date(m.createdAt),
        })),
      )
      .onConflictDoNothing();
  });
}

export function historyFromPostgres(env: Env, ctx: Ctx, conversationId: string, from: number, to: number): Promise<Message[]> {
  return withDb(env, ctx, async (db) => {
    const rows = await db
      .select()
      .from(messages)
      .where(and(eq(messages.conversationId, conversationId), between(messages.seq, from, to)))
      .orderBy(asc(messages.seq));
    return rows.map((r) => ({
      id: r.id,
      conversationId: r.conversationId,
      seq: r.seq,
      senderId: r.senderId,
      clientMsgId: r.clientMsgId,
      type: r.type as Message['type'],
      content: r.content as Message['content'],
      ...(r.fileId ? { fileId: r.fileId } : {}),
      ...(r.replyToSeq ? { replyToSeq: r.replyToSeq } : {}),
      ...(r.mentions ? { mentions: r.mentions } : {}),
      createdAt: r.createdAt.toISOString(),
    }));
  });
}
