/**
 * What the Worker and the two actors say to each other over RPC. DO methods
 * return result unions (a thrown error loses everything but its message
 * across RPC), and every call is idempotent: a failed call may have been
 * applied, and is retried.
 */
import type { ConversationView } from '../protocol/conversations.ts';
import type { Event, StreamItem } from '../protocol/events.ts';
import type { Ack, Message, SendInput } from '../protocol/messages.ts';

export type Role = 'owner' | 'admin' | 'member';

export interface Failure {
  ok: false;
  /** An API error code: not_member, not_found, validation_failed, blocked, rate_limited, gone, … */
  code: string;
  message: string;
}

export interface MirrorSettings {
  name?: string;
  avatarFileId?: string;
  announcement?: string;
  messageTtlSeconds?: number;
}

/**
 * A conversation's membership and settings as Postgres holds them; `version`
 * orders mirrors (older ones are ignored). `cause` names who made the change
 * (the events' actor) and which departures were leaves rather than removals.
 */
export interface ConversationMirror {
  conversationId: string;
  kind: 'single' | 'group';
  version: number;
  members: Array<{ userId: string; role: Role }>;
  settings: MirrorSettings;
  cause?: { actorId: string; left?: string[] };
}

/** Where a change came from: that device gets the answer (ack, or the event with its ref), not a copy. */
export interface Origin {
  deviceId?: string;
  /** The actor's own UserDO delivers the entry to itself from the answer: the fan-out need not call it. */
  selfDelivered?: boolean;
}

export type SendResult = { ok: true; ack: Ack; message: Message; duplicate: boolean } | Failure;
export type EventResult = { ok: true; event: Event; changed: boolean } | Failure;
export type ReadResult = { ok: true; seq: number } | Failure;
export type HistoryResult = { ok: true; items: Message[]; lastSeq: number } | Failure;
export type StreamResult = { ok: true; items: StreamItem[]; lastSeq: number } | Failure;
export type ReceiptsResult = { ok: true; seq: number; readCount: number; memberCount: number; readBy: string[] } | Failure;
export type ForwardSource = { ok: true; message: Message } | Failure;

/** A member's counters, computed by the ConversationDO from its cursors (O(1) plus tombstones after the cursor). */
export interface Counters {
  lastSeq: number;
  readSeq: number;
  unreadCount: number;
  mentionCount: number;
  lastMessage?: Message;
  joinedSeq: number;
}
export type SummaryResult = ({ ok: true } & Counters) | Failure;

export interface HistoryQuery {
  afterSeq?: number;
  beforeSeq?: number;
  limit: number;
}

/**
 * One entry delivered to a member's UserDO. For recalls and expiries it also
 * says whose message went and whether it mentioned anyone, so the UserDO can
 * keep its unread and mention counts without asking.
 */
export interface Delivery {
  item: StreamItem;
  /** The device that made this change: it got the answer already. */
  origin?: string;
  /** For message.recalled / message.expired: the message as it was. */
  target?: { senderId: string; mentions?: string[]; mentionAll?: boolean };
}

/** A conversation in one user's list: the view plus that user's counters. */
export interface ConversationListItem extends ConversationView {
  lastSeq: number;
  lastMessage?: Message;
  unreadCount: number;
  mentionCount: number;
  muted?: boolean;
}

export type { ConversationView, SendInput };
