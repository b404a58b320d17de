/**
 * The ConversationDO's Postgres side: the outbox flush and cold history.
 * A Neon Pool per operation, ended through waitUntil, as Workers require.
 */
import { and, asc, between, eq } from 'drizzle-orm';
import { connect } from '../db/client.ts';
import { messages } from '../db/schema.ts';
import type { Message } from '../protocol/messages.ts';

type Ctx = { waitUntil(p: Promise<unknown>): void };

async function withDb<T>(env: Env, ctx: Ctx, run: (db: ReturnType<typeof connect>['db']) => Promise<T>): Promise<T> {
  const { db, pool } = connect({ databaseUrl: env.DATABASE_URL, wsProxy: env.NEON_WS_PROXY || undefined });
  try {
    return await run(db);
  } finally {
    ctx.waitUntil(pool.end().catch(() => {}));
  }
}

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
