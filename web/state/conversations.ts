/** Pure helpers over the conversation list: order, titles, the peer of a single chat, counters. */
import type { Conversation, Message, User } from '../../client/index.ts';

/** Newest activity first: the last message's time, or when the conversation began. */
export function byActivity(list: Iterable<Conversation>): Conversation[] {
  const at = (c: Conversation) => Date.parse(c.lastMessage?.createdAt ?? c.createdAt);
  return [...list].sort((a, b) => at(b) - at(a));
}

/** The other member of a single conversation. */
export function peerOf(c: Pick<Conversation, 'kind' | 'members'>, me: string): string | undefined {
  return c.kind === 'single' ? c.members.find((m) => m.userId !== me)?.userId : undefined;
}

/** How a person is called in the UI: nickname, else username, else a placeholder while the profile loads. */
export function displayName(user: User | undefined): string {
  return user?.nickname || user?.username || '…';
}

/** A group's name, or the peer's name for a single chat. */
export function titleOf(c: Conversation, me: string, users: Record<string, User>): string {
  if (c.kind === 'group') return c.name ?? '…';
  const peer = peerOf(c, me);
  return peer ? displayName(users[peer]) : '…';
}

/** The list item's counters after a new message: unread and mentions move only for others' messages I am not looking at. */
export function withNewMessage(c: Conversation, m: Message, me: string, seen: boolean): Conversation {
  const newer = !c.lastMessage || m.seq >= c.lastMessage.seq;
  const counts = m.senderId !== me && !seen;
  const mentioned = counts && (m.mentionAll === true || (m.mentions?.includes(me) ?? false));
  return {
    ...c,
    lastSeq: Math.max(c.lastSeq, m.seq),
    ...(newer ? { lastMessage: m } : {}),
    unreadCount: c.unreadCount + (counts ? 1 : 0),
    mentionCount: c.mentionCount + (mentioned ? 1 : 0),
  };
}

/** A one-line preview of a message for the list. */
export function previewOf(m: Message | undefined, labels: { recalled: string; expired: string; image: string; file: string; voice: string }): string {
  if (!m) return '';
  if (m.recalled) return labels.recalled;
  if (m.expired) return labels.expired;
  if (m.type === 'text') return typeof m.content === 'string' ? m.content : '';
  const c = (m.content ?? {}) as Record<string, unknown>;
  if (m.type === 'image') return typeof c.caption === 'string' && c.caption ? `${labels.image}: ${c.caption}` : labels.image;
  if (m.type === 'file') return typeof c.name === 'string' ? `${labels.file}: ${c.name}` : labels.file;
  return labels.voice;
}
