/**
 * Messages and the WebSocket wire protocol (API.md § Conversations and
 * messages, § WebSocket). The same zod schemas validate REST bodies and WS
 * frames; the server's frames are typed here for the client too.
 */
import { z } from '@hono/zod-openapi';
import { Id, Text } from './common.ts';

export const TEXT_MAX = 4000;
export const MENTIONS_MAX = 50;

export const MsgType = z.enum(['text', 'image', 'voice', 'file']);
export type MsgType = z.infer<typeof MsgType>;

const ClientMsgId = Text().min(1).max(64).openapi({ example: 'c-1732250000-1' });
const Seq = z.number().int().min(0).max(2 ** 31 - 1);

/** Text, or a flat object of media metadata (`{caption?, width?, height?}`, `{durationMs}`, `{name}`). */
const Content = z.union([Text(), z.record(Text(), z.union([Text(), z.number(), z.boolean(), z.null()]))]);

const sendFields = {
  clientMsgId: ClientMsgId,
  content: Content,
  fileId: Id.optional(),
  replyToSeq: Seq.min(1).optional(),
  mentions: z.array(Id).max(MENTIONS_MAX).optional(),
};

/** What a sender provides over REST; `content` is checked against `type` by `checkContent`. */
export const SendInput = z.strictObject({ ...sendFields, type: MsgType }).openapi('SendMessageBody');
export type SendInput = z.infer<typeof SendInput>;

const ImageContent = z.strictObject({ caption: Text().max(TEXT_MAX).optional(), width: z.number().int().positive().max(100_000).optional(), height: z.number().int().positive().max(100_000).optional() });
const VoiceContent = z.strictObject({ durationMs: z.number().int().positive().max(3_600_000) });
const FileContent = z.strictObject({ name: Text().min(1).max(255) });

/** Per-type rules for `content` and `fileId`; returns an error message or undefined. */
export function checkContent(input: SendInput): string | undefined {
  if (input.type === 'text') {
    if (typeof input.content !== 'string') return 'content must be a string for text messages';
    if (input.content.trim().length === 0) return 'content must not be empty';
    if (input.content.length > TEXT_MAX) return `content is limited to ${TEXT_MAX} characters`;
    if (input.fileId) return 'text messages take no fileId';
    return undefined;
  }
  if (!input.fileId) return `fileId is required for ${input.type} messages`;
  const schema = input.type === 'image' ? ImageContent : input.type === 'voice' ? VoiceContent : FileContent;
  const parsed = schema.safeParse(input.content);
  return parsed.success ? undefined : `content: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'value'} ${i.message}`).join('; ')}`;
}

export const Message = z
  .object({
    id: z.string(),
    conversationId: z.string(),
    seq: z.number().int(),
    senderId: z.string(),
    clientMsgId: z.string(),
    type: MsgType,
    content: Content,
    fileId: z.string().optional(),
    replyToSeq: z.number().int().optional(),
    mentions: z.array(z.string()).optional(),
    createdAt: z.string(),
  })
  .openapi('Message');
export type Message = z.infer<typeof Message>;

/** Frames a client sends on the device socket (and the live-view socket). */
export const ClientFrame = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('message.send'), conversationId: Id, msgType: MsgType, ...sendFields }),
  z.strictObject({ type: z.literal('message.read'), conversationId: Id, seq: Seq }),
  z.strictObject({ type: z.literal('typing'), conversationId: Id }),
  z.strictObject({ type: z.literal('sync'), cursors: z.record(Id, Seq).default({}) }),
  z.strictObject({ type: z.literal('ping') }),
]);
export type ClientFrame = z.infer<typeof ClientFrame>;

export interface Ack {
  clientMsgId: string;
  conversationId: string;
  seq: number;
  id: string;
  createdAt: string;
}

/** Frames the server sends. */
export type ServerFrame =
  | ({ type: 'message.ack' } & Ack)
  | { type: 'message.new'; message: Message }
  | { type: 'receipt.read'; conversationId: string; userId: string; seq: number }
  | { type: 'typing'; conversationId: string; userId: string }
  | { type: 'presence'; userId: string; online: boolean; lastSeenAt: string | null }
  | { type: 'friend.request'; request: unknown }
  | { type: 'friend.accepted'; userId: string }
  | { type: 'conversation.updated'; conversation: unknown }
  | { type: 'sync.done'; cursors: Record<string, number> }
  | { type: 'error'; code: string; message: string; ref?: string }
  | { type: 'pong' };
