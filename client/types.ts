/**
 * The API's shapes as TypeScript types, inferred from the zod schemas in
 * `protocol/` with type-only imports: a client gets the server's exact types
 * without shipping zod (nothing here exists at run time).
 */
import type { z } from '@hono/zod-openapi';
import type * as Accounts from '../protocol/accounts.ts';
import type * as Conversations from '../protocol/conversations.ts';
import type * as Social from '../protocol/social.ts';
import type * as Push from '../protocol/push.ts';
import type * as Search from '../protocol/search.ts';
import type { Receipts as ReceiptsSchema } from '../protocol/events.ts';

export type { ErrorCode } from '../protocol/errors.ts';
export type { Ack, Content, Message, MsgType, Reaction, ForwardedFrom } from '../protocol/messages.ts';
export type { Event, EventKind, MessageEvent, StreamItem } from '../protocol/events.ts';
export type { Conversation, ConversationView } from '../protocol/conversations.ts';
export type { FileView, UploadStatus } from '../protocol/files.ts';
export type { ClientFrame, ServerFrame, ServerFrameOf } from '../protocol/frames.ts';
export type { Settings, Subscription, SubscriptionBody } from '../protocol/push.ts';

export type User = z.infer<typeof Accounts.User>;
export type Tokens = z.infer<typeof Accounts.Tokens>;
export type AuthResponse = z.infer<typeof Accounts.AuthResponse>;
export type RegisterBody = z.input<typeof Accounts.RegisterBody>;
export type LoginBody = z.input<typeof Accounts.LoginBody>;
export type CodePurpose = z.infer<typeof Accounts.CodePurpose>;

export type FriendRequest = z.infer<typeof Social.FriendRequest>;
export type Friend = z.infer<typeof Social.FriendItem>;
export type ProfilePatch = z.input<typeof Social.ProfilePatch>;

export type CreateConversationBody = z.input<typeof Conversations.CreateConversationBody>;
export type PatchConversationBody = z.input<typeof Conversations.PatchConversationBody>;
export type Role = z.infer<typeof Conversations.Role>;
export type Presence = z.infer<typeof Conversations.PresenceResponse>['presence'][string];
export type Receipts = z.infer<typeof ReceiptsSchema>;
export type VapidPublicKey = z.infer<typeof Push.VapidPublicKey>;

/** A list as every list route answers it (API.md "Shapes"). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** One hit of `GET /search/messages`: `highlight` is the text HTML-escaped by the server, matches in `<em>`. */
export type SearchHit = z.infer<typeof Search.SearchHit>;
/** The filters of `GET /search/messages` (API.md § Search). */
export type SearchQuery = Omit<z.input<typeof Search.SearchQuery>, 'limit'> & { limit?: number };
