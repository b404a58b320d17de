/**
 * The user's conversation index: one row per conversation with how far its
 * stream reached the devices, the read cursor, the unread and mention
 * counters, the last message in its current state. It answers the
 * conversation list without asking Postgres or any ConversationDO.
 *
 * The counters are kept incrementally from what is delivered (a message from
 * someone else after the read cursor +1, its recall or expiry −1, a message
 * of one's own resets them: sending counts as reading) and replaced outright
 * by the ConversationDO's own count when the read cursor moves. `counted_seq`
 * is the seq the counters are exact at, so a delivery the count already
 * includes is not counted twice, whichever arrives first.
 */
import { base64url } from 'jose';
import { applyEvent, isMessageEvent, seqOf } from '../../protocol/events.ts';
import { isGone, type Message, mentionsUser } from '../../protocol/messages.ts';
import type { ConversationListItem, ConversationView, Counters, Delivery } from '../contracts.ts';
import type { ConvRow } from './schema.ts';

const CACHED_ROWS = 1000;

/**
 * The index's rows, written through a small in-memory cache: the send path reads the row of the
 * conversation it delivers to on every message, and this object is the only writer.
 */
export class ConvIndex {
  private readonly cache = new Map<string, ConvRow | null>();
  private readonly sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.sql = sql;
  }

  get(conversationId: string): ConvRow | undefined {
    let row = this.cache.get(conversationId);
    if (row === undefined) {
      row = this.sql.exec<ConvRow>('SELECT * FROM convs WHERE conversation_id = ?', conversationId).toArray()[0] ?? null;
      this.remember(conversationId, row);
    }
    return row ?? undefined;
  }

  put(r: ConvRow): void {
    writeRow(this.sql, r);
    this.remember(r.conversation_id, r);
  }

  drop(conversationId: string): void {
    this.sql.exec('DELETE FROM convs WHERE conversation_id = ?', conversationId);
    this.remember(conversationId, null);
  }

  private remember(conversationId: string, row: ConvRow | null): void {
    this.cache.delete(conversationId);
    this.cache.set(conversationId, row);
    if (this.cache.size > CACHED_ROWS) this.cache.delete(this.cache.keys().next().value!);
  }
}

export function emptyRow(conversationId: string): ConvRow {
  return { conversation_id: conversationId, view: null, last_seq: 0, read_seq: 0, last_message: null, activity_at: 0, unread: 0, mentions: 0, counted_seq: 0, muted: 0 };
}

/**
 * `deliveries` (ascending, after `row.last_seq`) applied to a row. Pure: returns the new row and whether the
 * user left the conversation in them.
 */
export function applyDeliveries(before: ConvRow, deliveries: Delivery[], me: string): { row: ConvRow; departed: boolean } {
  const row = { ...before };
  let last = row.last_message ? (JSON.parse(row.last_message) as Message) : undefined;
  let departed = false;
  for (const d of deliveries) {
    const seq = seqOf(d.item);
    if (seq <= row.last_seq) continue;
    row.last_seq = seq;
    const counts = seq > row.counted_seq;
    if ('message' in d.item) {
      const m = d.item.message;
      last = m;
      row.activity_at = Date.parse(m.createdAt);
      if (m.senderId === me) {
        row.read_seq = Math.max(row.read_seq, seq);
        if (counts) (row.unread = 0), (row.mentions = 0);
      } else if (counts && seq > row.read_seq) {
        // Counted even if it arrives already gone: its recall or expiry, which follows, takes it off again.
        row.unread += 1;
        if (mentionsUser(isGone(m) && d.target ? { ...d.target } : m, me)) row.mentions += 1;
      }
    } else {
      const e = d.item.event;
      if (isMessageEvent(e)) {
        if (last?.seq === e.targetSeq) last = applyEvent(last, e);
        const gone = e.kind === 'message.recalled' || e.kind === 'message.expired';
        if (gone && counts && e.targetSeq > row.read_seq && d.target && d.target.senderId !== me) {
          row.unread = Math.max(0, row.unread - 1);
          if (mentionsUser(d.target, me)) row.mentions = Math.max(0, row.mentions - 1);
        }
      } else if ((e.kind === 'member.left' || e.kind === 'member.removed') && e.userId === me) {
        departed = true;
      }
    }
    if (counts) row.counted_seq = seq;
  }
  row.last_message = last ? JSON.stringify(last) : null;
  return { row, departed };
}

/** The ConversationDO's count replaces ours, unless ours is already exact at a later seq. */
export function withCounters(before: ConvRow, c: Counters): ConvRow {
  if (c.lastSeq < before.counted_seq) return before;
  return { ...before, read_seq: Math.max(before.read_seq, c.readSeq), unread: c.unreadCount, mentions: c.mentionCount, counted_seq: c.lastSeq };
}

function writeRow(sql: SqlStorage, r: ConvRow): void {
  sql.exec(
    `INSERT INTO convs (conversation_id, view, last_seq, read_seq, last_message, activity_at, unread, mentions, counted_seq, muted)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (conversation_id) DO UPDATE SET view = excluded.view, last_seq = excluded.last_seq, read_seq = excluded.read_seq,
       last_message = excluded.last_message, activity_at = excluded.activity_at, unread = excluded.unread, mentions = excluded.mentions,
       counted_seq = excluded.counted_seq, muted = excluded.muted`,
    r.conversation_id, r.view, r.last_seq, r.read_seq, r.last_message, r.activity_at, r.unread, r.mentions, r.counted_seq, r.muted,
  );
}

/** A row new to the index, from the ConversationDO's counters: the stream is delivered from the user's join on. */
export function rowFromCounters(conversationId: string, view: ConversationView | null, c: Counters): ConvRow {
  return {
    ...emptyRow(conversationId),
    view: view && JSON.stringify(view),
    last_seq: c.joinedSeq > 0 ? Math.min(c.lastSeq, c.joinedSeq - 1) : c.lastSeq,
    read_seq: c.readSeq,
    unread: c.unreadCount,
    mentions: c.mentionCount,
    counted_seq: c.lastSeq,
    last_message: c.lastMessage ? JSON.stringify(c.lastMessage) : null,
    activity_at: c.lastMessage ? Date.parse(c.lastMessage.createdAt) : view ? Date.parse(view.createdAt) : 0,
  };
}

export function listItem(r: ConvRow): ConversationListItem {
  return {
    ...(JSON.parse(r.view!) as ConversationView),
    lastSeq: r.last_seq,
    ...(r.last_message ? { lastMessage: JSON.parse(r.last_message) as Message } : {}),
    unreadCount: r.unread,
    mentionCount: r.mentions,
    ...(r.muted ? { muted: true } : {}),
  };
}

/** List cursors: `<activity_at>|<conversation_id>` in base64url, opaque to clients. */
export function encodeCursor(at: number, id: string): string {
  return base64url.encode(`${at}|${id}`);
}

export function decodeCursor(cursor: string | undefined): [number, string] | undefined {
  if (!cursor) return undefined;
  try {
    const [at, id] = new TextDecoder().decode(base64url.decode(cursor)).split('|');
    return at && id && /^\d+$/.test(at) ? [Number(at), id] : undefined;
  } catch {
    return undefined;
  }
}

export function listPage(sql: SqlStorage, q: { limit: number; cursor?: string }): { items: ConversationListItem[]; nextCursor: string | null } {
  const [at, id] = decodeCursor(q.cursor) ?? [Number.MAX_SAFE_INTEGER, ''];
  const rows = sql
    .exec<ConvRow>(
      `SELECT * FROM convs WHERE view IS NOT NULL AND (activity_at < ? OR (activity_at = ? AND conversation_id > ?))
       ORDER BY activity_at DESC, conversation_id LIMIT ?`,
      at, at, id, q.limit + 1,
    )
    .toArray();
  const page = rows.slice(0, q.limit);
  const last = page.at(-1);
  return { items: page.map(listItem), nextCursor: rows.length > q.limit && last ? encodeCursor(last.activity_at, last.conversation_id) : null };
}
