/**
 * Request and response shapes of the conversation, message and presence
 * routes (API.md § Conversations and messages, § Presence).
 */
import { z } from '@hono/zod-openapi';
import { Id, Text, Timestamp, Uuid } from './common.ts';
import { Message } from './messages.ts';

export const GROUP_NAME_MAX = 64;
export const ANNOUNCEMENT_MAX = 2000;
/**
 * Members of a group, its owner included. Above FANOUT_RPC_LIMIT (wrangler.toml, 500) the ConversationDO
 * hands its per-member delivery to QStash, so both paths are reachable.
 */
export const GROUP_MAX_MEMBERS = 5000;
export const HISTORY_LIMIT_MAX = 100;
export const HISTORY_LIMIT_DEFAULT = 50;
export const LIST_LIMIT_MAX = 100;
export const LIST_LIMIT_DEFAULT = 20;
export const PRESENCE_QUERY_MAX = 200;

const Seq = z.number().int().min(0).max(2 ** 31 - 1);
/** A non-negative integer from a query string. */
const QuerySeq = z.coerce.number().int().min(0).max(2 ** 31 - 1);
const UserIds = (max: number) => z.array(Id).max(max);

export const Role = z.enum(['owner', 'admin', 'member']);

export const TTL_MIN_SECONDS = 30;
export const TTL_MAX_SECONDS = 604_800;
/** `0` turns disappearing messages off; otherwise 30 s to 7 days. */
export const MessageTtl = z
  .number()
  .int()
  .refine((n) => n === 0 || (n >= TTL_MIN_SECONDS && n <= TTL_MAX_SECONDS), `0 (off) or ${TTL_MIN_SECONDS} … ${TTL_MAX_SECONDS} seconds`);
export const GroupName = Text().trim().min(1).max(GROUP_NAME_MAX).openapi({ example: 'Hiking club' });

export const CreateConversationBody = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('single'), peerId: Id }),
    z.strictObject({
      kind: z.literal('group'),
      name: GroupName,
      memberIds: UserIds(GROUP_MAX_MEMBERS - 1).openapi({ description: 'The other members (existing users); the caller is added as owner, duplicates and the caller’s own id are dropped' }),
    }),
  ])
  .openapi('CreateConversationBody');
export type CreateConversationBody = z.infer<typeof CreateConversationBody>;

/**
 * `null` clears `avatarFileId` / `announcement`; a group always keeps a name. A single conversation takes
 * `messageTtlSeconds` only.
 */
export const PatchConversationBody = z
  .strictObject({
    name: GroupName.optional(),
    avatarFileId: Id.nullable().optional(),
    announcement: Text().max(ANNOUNCEMENT_MAX).nullable().optional(),
    messageTtlSeconds: MessageTtl.optional().openapi({ description: 'Disappearing messages: 0 (off) or 30 … 604800 seconds' }),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'give at least one of name, avatarFileId, announcement, messageTtlSeconds' })
  .openapi('PatchConversationBody');
export type PatchConversationBody = z.infer<typeof PatchConversationBody>;

export const AddMembersBody = z.strictObject({ userIds: UserIds(GROUP_MAX_MEMBERS - 1).min(1) }).openapi('AddMembersBody');
export const SetRoleBody = z.strictObject({ role: z.enum(['admin', 'member']) }).openapi('SetRoleBody');
export const ReadBody = z.strictObject({ seq: Seq }).openapi('ReadBody');

export const ConversationParams = z.object({ id: Id.openapi({ param: { name: 'id', in: 'path' } }) });
export const MemberParams = ConversationParams.extend({ userId: Id.openapi({ param: { name: 'userId', in: 'path' } }) });

export const ListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(LIST_LIMIT_MAX).default(LIST_LIMIT_DEFAULT),
  /** Opaque, from `nextCursor` (base64 of the UserDO's position); anything else is refused here rather than reaching the actor. */
  cursor: Text().max(256).regex(/^[A-Za-z0-9+/_-]+={0,2}$/, 'not a cursor from nextCursor').optional(),
});

export const HistoryQuery = z
  .strictObject({
    afterSeq: QuerySeq.optional(),
    beforeSeq: QuerySeq.optional(),
    limit: z.coerce.number().int().min(1).max(HISTORY_LIMIT_MAX).default(HISTORY_LIMIT_DEFAULT),
  })
  .refine((q) => q.afterSeq === undefined || q.beforeSeq === undefined || q.afterSeq < q.beforeSeq, {
    message: 'afterSeq must be below beforeSeq',
    path: ['afterSeq'],
  });

export const Member = z.object({ userId: Uuid, role: Role, joinedAt: Timestamp }).openapi('Member');

/** A conversation as every member sees it (pushed as `conversation.updated`). */
export const ConversationView = z
  .object({
    id: Uuid,
    kind: z.enum(['single', 'group']),
    name: z.string().optional(),
    avatarFileId: Uuid.optional(),
    announcement: z.string().optional(),
    messageTtlSeconds: z.number().int().optional().openapi({ description: 'Set when disappearing messages are on' }),
    members: z.array(Member),
    createdAt: Timestamp,
  })
  .openapi('ConversationView');
export type ConversationView = z.infer<typeof ConversationView>;

/** The per-user view of a conversation: what every conversation route returns. */
export const Conversation = ConversationView.extend({
  lastSeq: z.number().int(),
  lastMessage: Message.optional(),
  unreadCount: z.number().int().openapi({ description: 'Messages from others after my read cursor, not recalled or expired' }),
  mentionCount: z.number().int().openapi({ description: 'Unread messages that mention me or @all' }),
  muted: z.boolean().optional(),
}).openapi('Conversation');
export type Conversation = z.infer<typeof Conversation>;

export const MuteBody = z.strictObject({ muted: z.boolean().optional() }).openapi('ConversationSettingsBody');
export const MuteResponse = z.object({ muted: z.boolean() }).openapi('ConversationSettings');

export const ConversationList = z
  .object({ items: z.array(Conversation), nextCursor: z.string().nullable() })
  .openapi('ConversationList');

export const MessagePage = z.object({ items: z.array(Message), nextCursor: z.string().nullable() }).openapi('MessagePage');

export const PresenceQueryBody = z
  .strictObject({ userIds: z.array(Id).min(1).max(PRESENCE_QUERY_MAX) })
  .openapi('PresenceQueryBody');

export const PresenceResponse = z
  .object({ presence: z.record(z.string(), z.object({ online: z.boolean(), lastSeenAt: Timestamp.nullable() })) })
  .openapi('PresenceResponse');
