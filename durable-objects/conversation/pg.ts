/**
 * The ConversationDO's Postgres side: the outbox's writes (messages upserted
 * to their current state, events appended) and the cold reads below the hot
 * window. Writes are idempotent — `(conversation_id, seq)` is the key and a
 * message row is only replaced by a newer `version` — so a retried flush, or
 * one that overlaps an earlier one, changes nothing.
 */
import { and, asc, desc, eq, gte, lte, sql } from 'drizzle-orm';
import { conversationEvents, messages, outboxQuarantine } from '../../db/schema.ts';
import type { Event, StreamItem } from '../../protocol/events.ts';
import type { Message } from '../../protocol/messages.ts';
import { type Ctx, withDb } from '../kit/postgres.ts';
import type { MessageRow } from './schema.ts';
import { toMessage } from './rows.ts';

/** What one flush writes: messages in their current state (with their number and version), and events. */
export interface FlushBatch {
  messages: Array<{ message: Message; msgNo: number; version: number }>;
  events: Event[];
}

export function writeBatch(env: Env, ctx: Ctx, batch: FlushBatch): Promise<void> {
  return withDb(env, ctx, async (db) => {
    if (batch.messages.length) {
      await db
        .insert(messages)
        .values(batch.messages.map(({ message: m, msgNo, version }) => ({
          conversationId: m.conversationId, seq: m.seq, id: m.id, senderId: m.senderId, clientMsgId: m.clientMsgId, type: m.type,
          content: m.content, fileId: m.fileId ?? null, replyToSeq: m.replyToSeq ?? null, mentions: m.mentions ?? null,
          createdAt: new Date(m.createdAt), msgNo, mentionAll: m.mentionAll ?? false, forwardedFrom: m.forwardedFrom ?? null,
          editedAt: m.editedAt ? new Date(m.editedAt) : null, recalled: m.recalled ?? false, expired: m.expired ?? false,
          expiresAt: m.expiresAt ? new Date(m.expiresAt) : null, reactions: m.reactions ?? null, version,
        })))
        .onConflictDoUpdate({
          target: [messages.conversationId, messages.seq],
          set: {
            content: sql`excluded.content`, fileId: sql`excluded.file_id`, mentions: sql`excluded.mentions`,
            mentionAll: sql`excluded.mention_all`, editedAt: sql`excluded.edited_at`, recalled: sql`excluded.recalled`,
            expired: sql`excluded.expired`, reactions: sql`excluded.reactions`, version: sql`excluded.version`,
          },
          setWhere: sql`${messages.version} < excluded.version`,
        });
    }
    if (batch.events.length) {
      await db
        .insert(conversationEvents)
        .values(batch.events.map((e) => {
          const { conversationId, seq, kind, actorId, createdAt, ...body } = e;
          return { conversationId, seq, kind, actorId, body, createdAt: new Date(createdAt) };
        }))
        .onConflictDoNothing();
    }
  });
}

/** Postgres refuses this data for good (SQLSTATE class 22: data exception, 23: integrity): retrying cannot help. */
export function isPermanent(err: unknown): boolean {
  for (let e: unknown = err; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code)) return true;
  }
  return false;
}

export function sqlState(err: unknown): string {
  for (let e: unknown = err; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return 'unknown';
}

export function recordQuarantine(env: Env, ctx: Ctx, conversationId: string, seq: number, consumer: string, error: string): Promise<void> {
  return withDb(env, ctx, async (db) => {
    await db.insert(outboxQuarantine).values({ conversationId, seq, consumer, error }).onConflictDoNothing();
  });
}

type PgMessage = typeof messages.$inferSelect;

function rowOf(r: PgMessage): MessageRow {
  return {
    seq: r.seq, id: r.id, sender_id: r.senderId, client_msg_id: r.clientMsgId, type: r.type, content: JSON.stringify(r.content ?? null),
    file_id: r.fileId, reply_to_seq: r.replyToSeq, mentions: r.mentions ? JSON.stringify(r.mentions) : null,
    created_at: r.createdAt.toISOString(), msg_no: r.msgNo, mention_all: r.mentionAll ? 1 : 0,
    forwarded_from: r.forwardedFrom ? JSON.stringify(r.forwardedFrom) : null, edited_at: r.editedAt?.toISOString() ?? null,
    gone: r.recalled ? 'recalled' : r.expired ? 'expired' : null, expires_at: r.expiresAt?.getTime() ?? null,
    reactions: r.reactions ? JSON.stringify(r.reactions) : null, version: r.version, origin: null,
  };
}

/** One message as Postgres has it, as a DO row (to hydrate an old message before changing it). */
export function messageRowFromPg(env: Env, ctx: Ctx, conversationId: string, seq: number): Promise<MessageRow | undefined> {
  return withDb(env, ctx, async (db) => {
    const [r] = await db.select().from(messages).where(and(eq(messages.conversationId, conversationId), eq(messages.seq, seq)));
    return r && rowOf(r);
  });
}

/** Messages with seq in [from, to]: the oldest `limit` (asc) or the newest `limit` (desc), returned ascending. */
export function coldMessages(env: Env, ctx: Ctx, conversationId: string, from: number, to: number, limit: number, newest: boolean): Promise<Message[]> {
  if (to < from || limit <= 0) return Promise.resolve([]);
  return withDb(env, ctx, async (db) => {
    const rows = await db
      .select()
      .from(messages)
      .where(and(eq(messages.conversationId, conversationId), gte(messages.seq, from), lte(messages.seq, to)))
      .orderBy(newest ? desc(messages.seq) : asc(messages.seq))
      .limit(limit);
    const out = rows.map((r) => toMessage(conversationId, rowOf(r)));
    return newest ? out.reverse() : out;
  });
}

/** The stream (messages and events) with seq in [from, to], the oldest `limit`, ascending. */
export function coldStream(env: Env, ctx: Ctx, conversationId: string, from: number, to: number, limit: number): Promise<StreamItem[]> {
  if (to < from || limit <= 0) return Promise.resolve([]);
  return withDb(env, ctx, async (db) => {
    const range = (t: typeof messages | typeof conversationEvents) => and(eq(t.conversationId, conversationId), gte(t.seq, from), lte(t.seq, to));
    const [ms, es] = await Promise.all([
      db.select().from(messages).where(range(messages)).orderBy(asc(messages.seq)).limit(limit),
      db.select().from(conversationEvents).where(range(conversationEvents)).orderBy(asc(conversationEvents.seq)).limit(limit),
    ]);
    const items: StreamItem[] = [
      ...ms.map((r) => ({ message: toMessage(conversationId, rowOf(r)) })),
      ...es.map((r) => ({ event: { ...(r.body as object), conversationId, seq: r.seq, kind: r.kind, actorId: r.actorId, createdAt: r.createdAt.toISOString() } as Event })),
    ];
    return items.sort((a, b) => seqOfItem(a) - seqOfItem(b)).slice(0, limit);
  });
}

const seqOfItem = (i: StreamItem) => ('message' in i ? i.message.seq : i.event.seq);

/** The number of the last message at or before `seq` (0 if none): a read cursor below the hot window. */
export function msgNoAt(env: Env, ctx: Ctx, conversationId: string, seq: number): Promise<number> {
  return withDb(env, ctx, async (db) => {
    const [r] = await db
      .select({ n: messages.msgNo })
      .from(messages)
      .where(and(eq(messages.conversationId, conversationId), lte(messages.seq, seq)))
      .orderBy(desc(messages.seq))
      .limit(1);
    return r?.n ?? 0;
  });
}

/** An event as Postgres has it (the answer to a repeated recall of an old message). */
export function eventFromPg(env: Env, ctx: Ctx, conversationId: string, seq: number): Promise<Event | undefined> {
  return withDb(env, ctx, async (db) => {
    const [r] = await db.select().from(conversationEvents).where(and(eq(conversationEvents.conversationId, conversationId), eq(conversationEvents.seq, seq)));
    return r && ({ ...(r.body as object), conversationId, seq: r.seq, kind: r.kind, actorId: r.actorId, createdAt: r.createdAt.toISOString() } as Event);
  });
}
