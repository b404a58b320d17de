/**
 * Messages (API.md § Conversations and messages): what a sender composes or
 * forwards, the content rules per type, and a message as everyone sees it —
 * its current state, after every edit, recall, reaction and expiry.
 */
import { z } from '@hono/zod-openapi';
import { Id, Text } from './common.ts';

export const TEXT_MAX = 4000;
export const MENTIONS_MAX = 50;

export const MsgType = z.enum(['text', 'image', 'voice', 'file']);
export type MsgType = z.infer<typeof MsgType>;

export const ClientMsgId = Text().min(1).max(64).openapi({ example: 'c-1732250000-1' });
export const Seq = z.number().int().min(0).max(2 ** 31 - 1);
const Timestamp = z.iso.datetime({ offset: false }).openapi({ example: '2026-11-22T04:55:00.123Z' });

/** Text, or a flat object of media metadata (`{caption?, width?, height?}`, `{durationMs}`, `{name}`). */
export const Content = z.union([Text(), z.record(Text(), z.union([Text(), z.number(), z.boolean(), z.null()]))]);
export type Content = z.infer<typeof Content>;

/** Forwarding names a message of a conversation the caller is in. */
export const ForwardOf = z.strictObject({ conversationId: Id, seq: Seq.min(1) }).openapi('ForwardOf');

/** The fields of a new message besides its type (which REST calls `type` and a frame `msgType`). */
export const composeFields = {
  clientMsgId: ClientMsgId,
  content: Content.optional(),
  fileId: Id.optional(),
  replyToSeq: Seq.min(1).optional(),
  mentions: z.array(Id).max(MENTIONS_MAX).optional(),
  mentionAll: z.boolean().optional().openapi({ description: '@all: for a group’s owner or admin' }),
  forwardOf: ForwardOf.optional().openapi({ description: 'Instead of type and content: forward this message' }),
};

/** Either composed (`type` + `content`) or forwarded (`forwardOf` alone). */
function composedOrForwarded(b: { type?: unknown; content?: unknown; fileId?: unknown; forwardOf?: unknown; mentions?: unknown; mentionAll?: unknown; replyToSeq?: unknown }, ctx: z.RefinementCtx): void {
  if (b.forwardOf !== undefined) {
    for (const key of ['type', 'content', 'fileId', 'mentions', 'mentionAll', 'replyToSeq'] as const) {
      if (b[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'a forward takes only clientMsgId and forwardOf' });
    }
  } else {
    if (b.type === undefined) ctx.addIssue({ code: 'custom', path: ['type'], message: 'required (or forwardOf)' });
    if (b.content === undefined) ctx.addIssue({ code: 'custom', path: ['content'], message: 'required (or forwardOf)' });
  }
}

/** `POST /conversations/:id/messages`; `content` is checked against `type` by `checkContent`. */
export const SendBody = z
  .strictObject({ ...composeFields, type: MsgType.optional() })
  .superRefine(composedOrForwarded)
  .openapi('SendMessageBody');
export type SendBody = z.infer<typeof SendBody>;

/** The same with the frame's field names (`msgType`), for `message.send`. */
export function composedOrForwardedFrame(f: { msgType?: unknown } & Parameters<typeof composedOrForwarded>[0], ctx: z.RefinementCtx): void {
  composedOrForwarded({ ...f, type: f.msgType }, ctx);
}

/** A message to append, once a forward is resolved to what it copies. */
export interface Draft {
  clientMsgId: string;
  type: MsgType;
  content: Content;
  fileId?: string;
  replyToSeq?: number;
  mentions?: string[];
  mentionAll?: boolean;
  forwardedFrom?: ForwardedFrom;
}

/** What a send asks for: a draft, or a forward to resolve. */
export type SendInput = { clientMsgId: string; forwardOf: z.infer<typeof ForwardOf> } | (Omit<Draft, 'forwardedFrom'> & { forwardOf?: undefined });

export function toSendInput(b: SendBody): SendInput {
  if (b.forwardOf) return { clientMsgId: b.clientMsgId, forwardOf: b.forwardOf };
  const { forwardOf: _f, type, content, ...rest } = b;
  return { ...rest, type: type!, content: content! };
}

const ImageContent = z.strictObject({ caption: Text().max(TEXT_MAX).optional(), width: z.number().int().positive().max(100_000).optional(), height: z.number().int().positive().max(100_000).optional() });
const VoiceContent = z.strictObject({ durationMs: z.number().int().positive().max(3_600_000) });
const FileContent = z.strictObject({ name: Text().min(1).max(255) });

/** Text rules, shared by sends and edits: returns an error message or undefined. */
export function checkText(content: unknown): string | undefined {
  if (typeof content !== 'string') return 'content must be a string for text messages';
  if (content.trim().length === 0) return 'content must not be empty';
  if (content.length > TEXT_MAX) return `content is limited to ${TEXT_MAX} characters`;
  return undefined;
}

/** Per-type rules for `content` and `fileId`; returns an error message or undefined. */
export function checkContent(input: Pick<Draft, 'type' | 'content' | 'fileId'>): string | undefined {
  if (input.type === 'text') return checkText(input.content) ?? (input.fileId ? 'text messages take no fileId' : undefined);
  if (!input.fileId) return `fileId is required for ${input.type} messages`;
  const schema = input.type === 'image' ? ImageContent : input.type === 'voice' ? VoiceContent : FileContent;
  const parsed = schema.safeParse(input.content);
  return parsed.success ? undefined : `content: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'value'} ${i.message}`).join('; ')}`;
}

export const ForwardedFrom = z.object({ conversationId: z.string(), seq: z.number().int(), senderId: z.string() }).openapi('ForwardedFrom');
export type ForwardedFrom = z.infer<typeof ForwardedFrom>;

export const Reaction = z.object({ emoji: z.string(), count: z.number().int(), userIds: z.array(z.string()) }).openapi('Reaction');
export type Reaction = z.infer<typeof Reaction>;

/** A message in its current state. A recalled or expired one keeps its place in the stream with `content: null`. */
export const Message = z
  .object({
    id: z.string(),
    conversationId: z.string(),
    seq: z.number().int(),
    senderId: z.string(),
    clientMsgId: z.string(),
    type: MsgType,
    content: Content.nullable(),
    fileId: z.string().optional(),
    replyToSeq: z.number().int().optional(),
    mentions: z.array(z.string()).optional(),
    mentionAll: z.boolean().optional(),
    forwardedFrom: ForwardedFrom.optional(),
    editedAt: Timestamp.optional(),
    recalled: z.boolean().optional(),
    expired: z.boolean().optional(),
    expiresAt: Timestamp.optional(),
    reactions: z.array(Reaction).optional(),
    createdAt: Timestamp,
  })
  .openapi('Message');
export type Message = z.infer<typeof Message>;

/** What the sending device gets back: the message's place in the stream. */
export const Ack = z.object({ clientMsgId: z.string(), conversationId: z.string(), seq: z.number().int(), id: z.string(), createdAt: Timestamp });
export type Ack = z.infer<typeof Ack>;

/** Does `m` mention `userId`, by name or through @all? */
export function mentionsUser(m: Pick<Message, 'mentions' | 'mentionAll' | 'senderId'>, userId: string): boolean {
  return m.senderId !== userId && (m.mentionAll === true || (m.mentions?.includes(userId) ?? false));
}

/** A message gone from view: recalled or expired. */
export function isGone(m: Pick<Message, 'recalled' | 'expired'>): boolean {
  return m.recalled === true || m.expired === true;
}
