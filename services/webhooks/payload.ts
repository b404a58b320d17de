/** What a delivery's body says: one entry of a conversation's stream (API.md § Integrations). */
import type { Event, StreamItem } from '../../protocol/events.ts';
import type { Message } from '../../protocol/messages.ts';

export type HookEventType = 'message.new' | 'conversation.event';

export type HookPayload =
  | { type: 'message.new'; conversationId: string; seq: number; message: Message }
  | { type: 'conversation.event'; conversationId: string; seq: number; event: Event };

export const typeOf = (item: StreamItem): HookEventType => ('message' in item ? 'message.new' : 'conversation.event');

export function payloadOf(conversationId: string, item: StreamItem): HookPayload {
  return 'message' in item
    ? { type: 'message.new', conversationId, seq: item.message.seq, message: item.message }
    : { type: 'conversation.event', conversationId, seq: item.event.seq, event: item.event };
}
