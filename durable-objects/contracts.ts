/**
 * What the Worker and the two actors say to each other over RPC. DO methods
 * return result unions (a thrown error loses everything but its message
 * across RPC), and every call is idempotent: a failed call may have been
 * applied, and is retried.
 */
import type { Ack, Message, SendInput } from '../protocol/messages.ts';

export type Role = 'owner' | 'admin' | 'member';

export interface Failure {
  ok: false;
  /** An API error code: not_member, not_found, validation_failed, blocked, rate_limited, … */
  code: string;
  message: string;
}

/** Membership mirrored from Postgres; `version` orders mirrors (older ones are ignored). */
export interface MemberMirror {
  conversationId: string;
  kind: 'single' | 'group';
  version: number;
  members: Array<{ userId: string; role: Role }>;
}

/** Where a send came from: the device that sent it gets the ack, not a `message.new`. */
export interface Origin {
  deviceId?: string;
}

export type SendResult = { ok: true; ack: Ack; message: Message; duplicate: boolean } | Failure;
export type ReadResult = { ok: true; seq: number } | Failure;
export type HistoryResult = { ok: true; items: Message[]; lastSeq: number } | Failure;
export type SummaryResult = { ok: true; lastSeq: number; lastReadSeq: number; lastMessage?: Message } | Failure;

export interface HistoryQuery {
  afterSeq?: number;
  beforeSeq?: number;
  limit: number;
}

/** A conversation as the API shows it (API.md), minus the per-user fields. */
export interface ConversationView {
  id: string;
  kind: 'single' | 'group';
  name?: string;
  avatarFileId?: string;
  announcement?: string;
  members: Array<{ userId: string; role: Role; joinedAt: string }>;
  createdAt: string;
}

/** A conversation in one user's list: the view plus that user's counters. */
export interface ConversationListItem extends ConversationView {
  lastSeq: number;
  lastMessage?: Message;
  unreadCount: number;
}

export type { SendInput };
