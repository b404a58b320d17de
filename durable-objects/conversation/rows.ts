/** SQLite rows of the stream ↔ the API's `message` and `event` (protocol/). */
import type { Event, StreamItem } from '../../protocol/events.ts';
import type { ForwardedFrom, Message, Reaction } from '../../protocol/messages.ts';
import type { EventRow, MessageRow } from './schema.ts';

export function toMessage(conversationId: string, r: MessageRow): Message {
  const gone = r.gone === 'recalled' || r.gone === 'expired' ? r.gone : undefined;
  const base = {
    id: r.id,
    conversationId,
    seq: r.seq,
    senderId: r.sender_id,
    clientMsgId: r.client_msg_id,
    type: r.type as Message['type'],
    ...(r.reply_to_seq ? { replyToSeq: r.reply_to_seq } : {}),
    ...(r.expires_at !== null ? { expiresAt: new Date(r.expires_at).toISOString() } : {}),
    createdAt: r.created_at,
  };
  if (gone) return { ...base, content: null, [gone]: true };
  return {
    ...base,
    content: JSON.parse(r.content) as Message['content'],
    ...(r.file_id ? { fileId: r.file_id } : {}),
    ...(r.mentions ? { mentions: JSON.parse(r.mentions) as string[] } : {}),
    ...(r.mention_all ? { mentionAll: true } : {}),
    ...(r.forwarded_from ? { forwardedFrom: JSON.parse(r.forwarded_from) as ForwardedFrom } : {}),
    ...(r.edited_at ? { editedAt: r.edited_at } : {}),
    ...(r.reactions ? { reactions: JSON.parse(r.reactions) as Reaction[] } : {}),
  };
}

export function toEvent(conversationId: string, r: EventRow): Event {
  return { ...(JSON.parse(r.body) as object), conversationId, seq: r.seq, kind: r.kind, actorId: r.actor_id, createdAt: r.created_at } as Event;
}

/** An event's own fields, as stored in `events.body`. */
export function eventBody(e: Event): string {
  const { conversationId: _c, seq: _s, kind: _k, actorId: _a, createdAt: _t, ...body } = e;
  return JSON.stringify(body);
}

/** The columns of a message that change after it was sent, from its current state. */
export function mutableColumns(m: Message): { content: string; file_id: string | null; mentions: string | null; mention_all: number; edited_at: string | null; gone: string | null; reactions: string | null; forwarded_from: string | null } {
  return {
    content: JSON.stringify(m.content),
    file_id: m.fileId ?? null,
    mentions: m.mentions ? JSON.stringify(m.mentions) : null,
    mention_all: m.mentionAll ? 1 : 0,
    edited_at: m.editedAt ?? null,
    gone: m.recalled ? 'recalled' : m.expired ? 'expired' : null,
    reactions: m.reactions?.length ? JSON.stringify(m.reactions) : null,
    forwarded_from: m.forwardedFrom ? JSON.stringify(m.forwardedFrom) : null,
  };
}

export function itemOf(conversationId: string, row: MessageRow | EventRow): StreamItem {
  return 'sender_id' in row ? { message: toMessage(conversationId, row as MessageRow) } : { event: toEvent(conversationId, row as EventRow) };
}
