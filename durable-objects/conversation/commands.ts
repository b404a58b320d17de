/**
 * The rules of every change a member asks for, as pure functions of what the
 * conversation holds: `(state, action, now) → the change to append | a
 * failure`. They read nothing and write nothing; the ConversationDO loads
 * what they need (the target message), then appends what they return.
 */
import { type EventDraft, isEmoji, REACTIONS_MAX } from '../../protocol/events.ts';
import { checkContent, checkText, type Draft, isGone, type Message } from '../../protocol/messages.ts';
import type { Failure } from '../contracts.ts';
import type { ConversationState } from './state.ts';

const fail = (code: string, message: string): Failure => ({ ok: false, code, message });

export function notMember(st: ConversationState): Failure {
  return st.exists ? fail('not_member', 'You are not a member of this conversation') : fail('not_found', 'No such conversation');
}

const manages = (st: ConversationState, userId: string) => {
  const role = st.member(userId)?.role;
  return role === 'owner' || role === 'admin';
};

/** What kind of entry a seq is, as far as the caller could tell. */
export type SeqKind = 'message' | 'event' | 'none';

/** May `senderId` post `draft`? `replyTo` says what `draft.replyToSeq` names. */
export function post(st: ConversationState, senderId: string, draft: Draft, replyTo: SeqKind): Failure | undefined {
  if (!st.member(senderId)) return notMember(st);
  const invalid = checkContent(draft);
  if (invalid) return fail('validation_failed', invalid);
  if (st.conv.kind === 'single' && st.inAnyBlock(senderId)) return fail('blocked', 'Messages between you and this user are blocked');
  if (draft.replyToSeq !== undefined && replyTo !== 'message') return fail('validation_failed', 'replyToSeq must name a message of this conversation');
  const stranger = draft.mentions?.find((id) => !st.member(id));
  if (stranger) return fail('validation_failed', `mentions: ${stranger} is not a member`);
  if (draft.mentionAll && (st.conv.kind !== 'group' || !manages(st, senderId))) return fail('forbidden', '@all is for a group’s owner and admins');
  return undefined;
}

/** Edit: the sender, text only, within the edit window, not gone. */
export function edit(st: ConversationState, actorId: string, target: Message | undefined, content: string, now: number, windowSeconds: number): EventDraft | Failure {
  if (!st.member(actorId)) return notMember(st);
  if (!target) return fail('not_found', 'No message at that seq');
  if (isGone(target)) return fail('gone', 'That message was recalled or has expired');
  if (target.senderId !== actorId) return fail('forbidden', 'Only the sender can edit a message');
  if (target.type !== 'text') return fail('validation_failed', 'Only text messages can be edited');
  if (now - Date.parse(target.createdAt) > windowSeconds * 1000) return fail('edit_window_passed', `Messages can be edited for ${windowSeconds} s`);
  const invalid = checkText(content);
  if (invalid) return fail('validation_failed', invalid);
  return { kind: 'message.edited', actorId, targetSeq: target.seq, content, editedAt: new Date(now).toISOString() };
}

/** Recall: the sender within the recall window, a group's owner or admin any time. A second recall is answered by the first. */
export function recall(st: ConversationState, actorId: string, target: Message | undefined, now: number, windowSeconds: number): EventDraft | Failure | 'already' {
  if (!st.member(actorId)) return notMember(st);
  if (!target) return fail('not_found', 'No message at that seq');
  if (target.recalled) return 'already';
  if (target.expired) return fail('gone', 'That message has expired');
  const moderator = st.conv.kind === 'group' && manages(st, actorId);
  if (!moderator) {
    if (target.senderId !== actorId) return fail('forbidden', 'Only the sender, or a group’s owner or admin, can recall a message');
    if (now - Date.parse(target.createdAt) > windowSeconds * 1000) return fail('recall_window_passed', `Messages can be recalled for ${windowSeconds} s`);
  }
  return { kind: 'message.recalled', actorId, targetSeq: target.seq };
}

/** Reactions: one emoji, at most REACTIONS_MAX distinct per message; a repeat changes nothing. */
export function react(st: ConversationState, actorId: string, target: Message | undefined, emoji: string, on: boolean): EventDraft | Failure | 'unchanged' {
  if (!st.member(actorId)) return notMember(st);
  if (!isEmoji(emoji)) return fail('validation_failed', 'emoji must be one emoji');
  if (!target) return fail('not_found', 'No message at that seq');
  if (isGone(target)) return fail('gone', 'That message was recalled or has expired');
  const reactions = target.reactions ?? [];
  const mine = reactions.find((r) => r.emoji === emoji)?.userIds.includes(actorId) ?? false;
  if (mine === on) return 'unchanged';
  if (on && !reactions.some((r) => r.emoji === emoji) && reactions.length >= REACTIONS_MAX) {
    return fail('validation_failed', `A message takes at most ${REACTIONS_MAX} different reactions`);
  }
  return { kind: on ? 'reaction.added' : 'reaction.removed', actorId, targetSeq: target.seq, emoji };
}

/** A message that can be forwarded: present, not recalled or expired. */
export function forwardable(st: ConversationState, userId: string, source: Message | undefined): Message | Failure {
  if (!st.member(userId)) return notMember(st);
  if (!source) return fail('not_found', 'No message at that seq');
  if (isGone(source)) return fail('gone', 'That message was recalled or has expired');
  if (st.member(userId)!.joinedSeq > source.seq) return fail('not_found', 'No message at that seq');
  return source;
}
