/**
 * One conversation's message list as the chat view shows it, and the pure
 * functions that keep it current: pages from history, live messages, events.
 * Every function returns a new thread (signals compare by identity).
 */
import { applyEvent, isMessageEvent } from '../../protocol/message-state.ts';
import type { Content, Event, Message, MsgType } from '../../client/index.ts';

/** My message on its way: shown at once, replaced by the real one when its ack comes. */
export interface Outgoing {
  clientMsgId: string;
  type: MsgType;
  content: Content;
  fileId?: string;
  replyToSeq?: number;
  createdAt: string;
  /** Why it failed (the error code), if it did. */
  failed?: string;
}

export interface Thread {
  /** Ascending by seq, each seq once, in its current state. */
  messages: Message[];
  outgoing: Outgoing[];
  /** Whether older pages may exist (the last page asked for came back full). */
  hasMore: boolean;
  loading: boolean;
  /** The first page has arrived: live entries can be merged into something. */
  loaded: boolean;
}

export const EMPTY_THREAD: Thread = { messages: [], outgoing: [], hasMore: true, loading: false, loaded: false };

/** `incoming` merged into `list`: ascending, one per seq, the incoming copy winning (it is the newer state). */
export function mergeMessages(list: readonly Message[], incoming: readonly Message[]): Message[] {
  if (incoming.length === 0) return list as Message[];
  const bySeq = new Map<number, Message>();
  for (const m of list) bySeq.set(m.seq, m);
  for (const m of incoming) bySeq.set(m.seq, m);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** A page of history arrived (`older`: it was asked for below the oldest seq shown). */
export function withPage(thread: Thread, page: readonly Message[], limit: number, older: boolean): Thread {
  return {
    ...thread,
    messages: mergeMessages(thread.messages, page),
    hasMore: older || !thread.loaded ? page.length >= limit : thread.hasMore,
    loading: false,
    loaded: true,
  };
}

/** A message of the stream arrived: merged, and my outgoing copy (same clientMsgId) dropped. */
export function withMessage(thread: Thread, message: Message, me: string): Thread {
  const outgoing = message.senderId === me ? thread.outgoing.filter((o) => o.clientMsgId !== message.clientMsgId) : thread.outgoing;
  return { ...thread, messages: mergeMessages(thread.messages, [message]), outgoing };
}

/** An event arrived: applied to its target if the thread shows it (events that change no message change nothing here). */
export function withEvent(thread: Thread, event: Event): Thread {
  if (!isMessageEvent(event)) return thread;
  const i = thread.messages.findIndex((m) => m.seq === event.targetSeq);
  if (i < 0) return thread;
  const messages = thread.messages.slice();
  messages[i] = applyEvent(messages[i]!, event);
  return { ...thread, messages };
}

/** Applies `events` (ascending) to a thread just loaded. Applying an event twice is harmless: each sets a state. */
export function withEvents(thread: Thread, events: readonly Event[]): Thread {
  return events.reduce(withEvent, thread);
}

/** The message at `seq`, if shown. */
export function messageAt(thread: Thread, seq: number): Message | undefined {
  return thread.messages.find((m) => m.seq === seq);
}

/** My newest message that is still there (not recalled or expired): where "Seen by …" goes. */
export function lastOwn(thread: Thread, me: string): Message | undefined {
  for (let i = thread.messages.length - 1; i >= 0; i--) {
    const m = thread.messages[i]!;
    if (m.senderId === me && !m.recalled && !m.expired) return m;
  }
  return undefined;
}
