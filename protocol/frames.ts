/**
 * The WebSocket wire protocol (API.md § WebSocket): every frame a client
 * sends and every frame the server sends, as zod schemas. One source for
 * validation (the device and live-view sockets parse with `ClientFrame`),
 * for the types both sides use, and for the AsyncAPI document
 * (`/asyncapi.json`, workers/routes/asyncapi.ts).
 */
import { z } from '@hono/zod-openapi';
import { Id, Text } from './common.ts';
import { ConversationView } from './conversations.ts';
import { Emoji, Event, type MessageAction } from './events.ts';
import { Ack, composedOrForwardedFrame, composeFields, Message, MsgType, Seq } from './messages.ts';
import { FriendRequest } from './social.ts';

/** Echoed in the answer to an action frame (`conversation.event` or `error`). */
const Ref = Text().min(1).max(64).optional().openapi({ description: 'Echoed in the answer' });

export const ClientFrames = {
  'message.send': z
    .strictObject({ type: z.literal('message.send'), conversationId: Id, msgType: MsgType.optional(), ...composeFields })
    .superRefine(composedOrForwardedFrame)
    .openapi({ description: 'Send (or, with forwardOf, forward) a message. Answered by message.ack, or error with ref = clientMsgId' }),
  'message.read': z.strictObject({ type: z.literal('message.read'), conversationId: Id, seq: Seq }).openapi({ description: 'Move my read cursor forward' }),
  'message.edit': z
    .strictObject({ type: z.literal('message.edit'), conversationId: Id, seq: Seq.min(1), content: Text(), ref: Ref })
    .openapi({ description: 'Edit my text message; answered by conversation.event (message.edited) with ref' }),
  'message.recall': z
    .strictObject({ type: z.literal('message.recall'), conversationId: Id, seq: Seq.min(1), ref: Ref })
    .openapi({ description: 'Recall a message; answered by conversation.event (message.recalled) with ref' }),
  'reaction.add': z
    .strictObject({ type: z.literal('reaction.add'), conversationId: Id, seq: Seq.min(1), emoji: Emoji, ref: Ref })
    .openapi({ description: 'React with one emoji; answered by conversation.event (reaction.added) with ref' }),
  'reaction.remove': z
    .strictObject({ type: z.literal('reaction.remove'), conversationId: Id, seq: Seq.min(1), emoji: Emoji, ref: Ref })
    .openapi({ description: 'Take a reaction back; answered by conversation.event (reaction.removed) with ref' }),
  typing: z.strictObject({ type: z.literal('typing'), conversationId: Id }).openapi({ description: 'I am typing (ephemeral)' }),
  sync: z
    .strictObject({ type: z.literal('sync'), cursors: z.record(Id, Seq).default({}) })
    .openapi({ description: 'Replay what this device missed after each cursor (conversations left out: from my read cursor), then sync.done' }),
  ping: z.strictObject({ type: z.literal('ping') }).openapi({ description: 'Answered by pong' }),
} as const;

export const ClientFrame = z.discriminatedUnion('type', Object.values(ClientFrames) as unknown as [
  (typeof ClientFrames)['message.send'],
  ...Array<(typeof ClientFrames)[keyof typeof ClientFrames]>,
]);
export type ClientFrame = { [K in keyof typeof ClientFrames]: z.infer<(typeof ClientFrames)[K]> }[keyof typeof ClientFrames];
export type ClientFrameType = ClientFrame['type'];
export const CLIENT_FRAME_TYPES = Object.keys(ClientFrames) as ClientFrameType[];

export const ServerFrames = {
  'message.ack': Ack.extend({ type: z.literal('message.ack') }).openapi({ description: 'To the sending device: the message is committed at seq' }),
  'message.new': z.object({ type: z.literal('message.new'), message: Message }).openapi({ description: 'A message of the stream (live, or replayed by sync)' }),
  'conversation.event': z
    .object({ type: z.literal('conversation.event'), event: Event, ref: z.string().optional() })
    .openapi({ description: 'An event of the stream, in seq order with message.new; ref answers an action frame' }),
  'receipt.read': z
    .object({ type: z.literal('receipt.read'), conversationId: z.string(), userId: z.string(), seq: z.number().int() })
    .openapi({ description: 'A member read up to seq' }),
  typing: z.object({ type: z.literal('typing'), conversationId: z.string(), userId: z.string() }).openapi({ description: 'A member is typing' }),
  presence: z
    .object({ type: z.literal('presence'), userId: z.string(), online: z.boolean(), lastSeenAt: z.string().nullable() })
    .openapi({ description: 'A friend came online or went offline' }),
  'friend.request': z.object({ type: z.literal('friend.request'), request: FriendRequest }).openapi({ description: 'A friend request to me' }),
  'friend.accepted': z.object({ type: z.literal('friend.accepted'), userId: z.string() }).openapi({ description: 'My request was accepted' }),
  'conversation.updated': z
    .object({ type: z.literal('conversation.updated'), conversation: ConversationView })
    .openapi({ description: 'A conversation of mine was created or changed (details, members)' }),
  'sync.done': z
    .object({ type: z.literal('sync.done'), cursors: z.record(z.string(), z.number().int()) })
    .openapi({ description: 'The replay is complete: the last seq now delivered per conversation; live frames follow' }),
  error: z
    .object({ type: z.literal('error'), code: z.string(), message: z.string(), ref: z.string().optional() })
    .openapi({ description: 'A frame was refused: code as in the REST errors; ref = clientMsgId or the frame’s ref' }),
  pong: z.object({ type: z.literal('pong') }).openapi({ description: 'The answer to ping' }),
  'webhook.disabled': z
    .object({
      type: z.literal('webhook.disabled'),
      webhookId: z.string(),
      url: z.string(),
      conversationId: z.string().optional().openapi({ description: 'For a conversation’s webhook' }),
      botId: z.string().optional().openapi({ description: 'For a bot’s webhookUrl' }),
      disabledAt: z.string(),
      reason: z.string(),
    })
    .openapi({ description: 'To its creator: a webhook of theirs failed for a day and was switched off' }),
} as const;

export type ServerFrame = { [K in keyof typeof ServerFrames]: z.infer<(typeof ServerFrames)[K]> }[keyof typeof ServerFrames];
export type ServerFrameOf<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;

type ActionFrame = Extract<ClientFrame, { type: 'message.edit' | 'message.recall' | 'reaction.add' | 'reaction.remove' }>;

/** An action frame as the action it asks for (the same the REST routes build). */
export function actionOf(f: ActionFrame): MessageAction {
  switch (f.type) {
    case 'message.edit':
      return { kind: 'edit', seq: f.seq, content: f.content };
    case 'message.recall':
      return { kind: 'recall', seq: f.seq };
    case 'reaction.add':
    case 'reaction.remove':
      return { kind: 'react', seq: f.seq, emoji: f.emoji, on: f.type === 'reaction.add' };
  }
}
