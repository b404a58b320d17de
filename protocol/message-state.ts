/**
 * What events do to messages: the pure half of the conversation stream
 * (events.ts holds its schemas). Kept free of zod so a browser bundle (the
 * web client, client/) can apply events without shipping the schemas; only
 * types are imported here.
 */
import type { Event, MessageEvent, StreamItem } from './events.ts';
import type { Message, Reaction } from './messages.ts';

/** Events that change a message (`targetSeq`). */
export function isMessageEvent(e: Event): e is MessageEvent {
  return 'targetSeq' in e;
}

export const seqOf = (item: StreamItem): number => ('message' in item ? item.message.seq : item.event.seq);

/** Reactions with `userId` added to or removed from `emoji`, in first-reaction order. */
export function withReaction(reactions: readonly Reaction[], emoji: string, userId: string, on: boolean): Reaction[] {
  const out = reactions.map((r) => ({ ...r, userIds: [...r.userIds] }));
  const found = out.find((r) => r.emoji === emoji);
  if (on) {
    if (!found) out.push({ emoji, count: 1, userIds: [userId] });
    else if (!found.userIds.includes(userId)) found.userIds.push(userId), (found.count = found.userIds.length);
  } else if (found) {
    found.userIds = found.userIds.filter((u) => u !== userId);
    found.count = found.userIds.length;
  }
  return out.filter((r) => r.count > 0);
}

/** What `event` does to `message` (its target): the message's new current state. */
export function applyEvent(message: Message, event: MessageEvent): Message {
  switch (event.kind) {
    case 'message.edited':
      return { ...message, content: event.content, editedAt: event.editedAt };
    case 'message.recalled':
    case 'message.expired': {
      const { fileId: _f, reactions: _r, mentions: _m, mentionAll: _a, editedAt: _e, forwardedFrom: _w, ...rest } = message;
      return { ...rest, content: null, ...(event.kind === 'message.recalled' ? { recalled: true } : { expired: true }) };
    }
    case 'reaction.added':
    case 'reaction.removed': {
      const reactions = withReaction(message.reactions ?? [], event.emoji, event.actorId, event.kind === 'reaction.added');
      const { reactions: _r, ...rest } = message;
      return reactions.length ? { ...rest, reactions } : rest;
    }
  }
}
