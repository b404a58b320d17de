/**
 * The conversation stream (API.md § The conversation stream): every `seq` of
 * a conversation is a message or an event — a change after the fact. This
 * module holds the event union, what actions on messages look like, and
 * `applyEvent` (message-state.ts, re-exported here), the one definition of
 * what an event does to a message, used by the ConversationDO's projection,
 * the UserDO's conversation index and clients alike.
 */
import { z } from '@hono/zod-openapi';
import { Id, Text } from './common.ts';
import { Message, Seq } from './messages.ts';
import { Role } from './conversations.ts';

export { applyEvent, isMessageEvent, seqOf, withReaction } from './message-state.ts';

export const REACTIONS_MAX = 20;

const Timestamp = z.iso.datetime({ offset: false }).openapi({ example: '2026-11-22T04:55:00.123Z' });

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
/** One grapheme that is an emoji: a pictograph (with its modifiers, ZWJ sequences), a flag, or a keycap. */
export function isEmoji(s: string): boolean {
  if (s.length === 0 || s.length > 64) return false;
  const graphemes = [...segmenter.segment(s)];
  if (graphemes.length !== 1) return false;
  return /\p{Extended_Pictographic}/u.test(s) || /^\p{Regional_Indicator}{2}$/u.test(s) || /^[0-9#*]\uFE0F?\u20E3$/u.test(s);
}
export const Emoji = Text().refine(isEmoji, 'one emoji');

export const SettingsChanges = z
  .object({
    name: z.string().optional(),
    avatarFileId: z.string().nullable().optional(),
    announcement: z.string().nullable().optional(),
    messageTtlSeconds: z.number().int().optional(),
  })
  .openapi('SettingsChanges');
export type SettingsChanges = z.infer<typeof SettingsChanges>;

const base = { conversationId: z.string(), seq: z.number().int(), actorId: z.string(), createdAt: Timestamp };
const target = { targetSeq: z.number().int() };

export const Event = z
  .discriminatedUnion('kind', [
    z.object({ ...base, kind: z.literal('message.edited'), ...target, content: z.string(), editedAt: Timestamp }),
    z.object({ ...base, kind: z.literal('message.recalled'), ...target }),
    z.object({ ...base, kind: z.literal('message.expired'), ...target }).openapi({ description: 'A disappearing message ran out (actorId: its sender)' }),
    z.object({ ...base, kind: z.literal('reaction.added'), ...target, emoji: z.string() }),
    z.object({ ...base, kind: z.literal('reaction.removed'), ...target, emoji: z.string() }),
    z.object({ ...base, kind: z.literal('member.joined'), userIds: z.array(z.string()) }),
    z.object({ ...base, kind: z.literal('member.left'), userId: z.string() }),
    z.object({ ...base, kind: z.literal('member.removed'), userId: z.string() }),
    z.object({ ...base, kind: z.literal('member.role_changed'), userId: z.string(), role: Role }),
    z.object({ ...base, kind: z.literal('conversation.updated'), changes: SettingsChanges }),
  ])
  .openapi('Event');
export type Event = z.infer<typeof Event>;
export type EventKind = Event['kind'];

/** An event before it has its place in the stream. */
export type EventDraft = Event extends infer E ? (E extends Event ? Omit<E, 'conversationId' | 'seq' | 'createdAt'> : never) : never;

/** Events that change a message (`targetSeq`). */
export type MessageEvent = Extract<Event, { targetSeq: number }>;

/** One entry of the stream. */
export const StreamItem = z.union([z.object({ message: Message }), z.object({ event: Event })]).openapi('StreamItem');
export type StreamItem = { message: Message } | { event: Event };


/** Actions on a message, over REST (path + body) and WebSocket (frames). */
export const EditBody = z.strictObject({ content: Text() }).openapi('EditMessageBody');
export const MessageSeqParams = z.object({
  id: Id.openapi({ param: { name: 'id', in: 'path' } }),
  seq: z.coerce.number().int().min(1).max(2 ** 31 - 1).openapi({ param: { name: 'seq', in: 'path' } }),
});
export const ReactionParams = MessageSeqParams.extend({ emoji: Emoji.openapi({ param: { name: 'emoji', in: 'path' }, example: '👍' }) });

export const EventsQuery = z.strictObject({
  afterSeq: z.coerce.number().int().min(0).max(2 ** 31 - 1).default(0),
  limit: z.coerce.number().int().min(1).max(100).default(100),
});
export const EventsPage = z.object({ items: z.array(StreamItem), lastSeq: z.number().int() }).openapi('EventsPage');

export const Receipts = z
  .object({ seq: z.number().int(), readCount: z.number().int(), memberCount: z.number().int(), readBy: z.array(z.string()) })
  .openapi('Receipts');

/** The actions a member can take on a message; each becomes an event. */
export type MessageAction =
  | { kind: 'edit'; seq: number; content: string }
  | { kind: 'recall'; seq: number }
  | { kind: 'react'; seq: number; emoji: string; on: boolean };
