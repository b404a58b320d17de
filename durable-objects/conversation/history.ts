/**
 * Reading the stream: pages of messages, pages of messages and events, a
 * member's counters and the receipts of a message. Everything at or above
 * `hotFrom` is read here; older pages come from Postgres (the outbox wrote
 * them there before they were pruned), overlaid with any older message this
 * object loaded back to change it. A member sees the stream from the seq
 * they joined at.
 */
import { seqOf, type StreamItem } from '../../protocol/events.ts';
import type { Message } from '../../protocol/messages.ts';
import type { Counters, HistoryQuery } from '../contracts.ts';
import { entriesIn, messageAt } from './event-log.ts';
import { coldMessages, coldStream, messageRowFromPg, msgNoAt } from './pg.ts';
import { toMessage } from './rows.ts';
import type { MessageRow } from './schema.ts';
import type { Deps, Member } from './state.ts';

/** The first seq `m` may see. */
export const visibleFrom = (m: Member): number => Math.max(1, m.joinedSeq);

function hotMessages(d: Deps, from: number, to: number, limit: number, newest: boolean): Message[] {
  if (to < from || limit <= 0) return [];
  const rows = d.storage.sql
    .exec<MessageRow>(`SELECT * FROM messages WHERE seq BETWEEN ? AND ? ORDER BY seq ${newest ? 'DESC' : 'ASC'} LIMIT ?`, from, to, limit)
    .toArray()
    .map((r) => toMessage(d.st.conv.id!, r));
  return newest ? rows.reverse() : rows;
}

/**
 * Older pages from Postgres, with what this object still holds in that range laid over: a message loaded
 * back (its newer state) or one Postgres refused for good (quarantined, kept here; Postgres lacks it).
 */
async function cold(d: Deps, from: number, to: number, limit: number, newest: boolean): Promise<Message[]> {
  const held = hotMessages(d, from, to, 1000, false);
  const bySeq = new Map((await coldMessages(d.env, d.ctx, d.st.conv.id!, from, to, limit, newest)).map((m) => [m.seq, m]));
  for (const m of held) bySeq.set(m.seq, m);
  const all = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  return newest ? all.slice(-limit) : all.slice(0, limit);
}

/** `GET …/messages`: the newest `limit` below beforeSeq, or with afterSeq the oldest `limit` above it; ascending. */
export async function messagePage(d: Deps, m: Member, q: HistoryQuery): Promise<Message[]> {
  const { hotFrom, lastSeq } = d.st.conv;
  const limit = Math.max(1, Math.min(q.limit, 100));
  const lo = Math.max(visibleFrom(m), (q.afterSeq ?? 0) + 1);
  const hi = Math.min(lastSeq, (q.beforeSeq ?? lastSeq + 1) - 1);
  if (hi < lo) return [];
  if (q.afterSeq !== undefined) {
    // The hot part first, before any await: a prune meanwhile would take it from here (see streamPage).
    const hot = hotMessages(d, Math.max(lo, hotFrom), hi, limit, false);
    const older = lo < hotFrom ? await cold(d, lo, Math.min(hi, hotFrom - 1), limit, false) : [];
    return [...older, ...hot].slice(0, limit);
  }
  const newer = hotMessages(d, Math.max(lo, hotFrom), hi, limit, true);
  const older = newer.length < limit && lo < hotFrom ? await cold(d, lo, Math.min(hi, hotFrom - 1), limit - newer.length, true) : [];
  return [...older, ...newer];
}

/** `GET …/events` and `sync`: messages and events after `afterSeq`, ascending, at most `limit`. */
export async function streamPage(d: Deps, m: Member, afterSeq: number, limit: number): Promise<StreamItem[]> {
  const { hotFrom, lastSeq } = d.st.conv;
  const lo = Math.max(visibleFrom(m), afterSeq + 1);
  if (lastSeq < lo) return [];
  // The hot part first, before any await: a prune that runs while Postgres is asked would delete it
  // here (Postgres has it, but below the hotFrom read at the start), and the page would skip it.
  const from = Math.max(lo, hotFrom);
  const hot = entriesIn(d.st, d.storage.sql, from, Math.min(lastSeq, from + limit - 1)).map((e) => e.item);
  if (lo >= hotFrom) return hot;
  // Below hotFrom, what this object still holds wins, as in `cold`.
  const held = entriesIn(d.st, d.storage.sql, lo, hotFrom - 1);
  const bySeq = new Map((await coldStream(d.env, d.ctx, d.st.conv.id!, lo, hotFrom - 1, limit)).map((item) => [seqOf(item), item]));
  for (const e of held) bySeq.set(e.seq, e.item);
  const older = [...bySeq.values()].sort((a, b) => seqOf(a) - seqOf(b));
  return [...older, ...hot].slice(0, limit);
}

/** The message at `seq` in its current state, loaded back from Postgres (and kept here) if it is older than the hot window. */
export async function loadMessage(d: Deps, seq: number): Promise<Message | undefined> {
  if (seq < 1 || seq > d.st.conv.lastSeq) return undefined;
  const here = messageAt(d.st, d.storage.sql, seq);
  if (here || seq >= d.st.conv.hotFrom) return here;
  const row = await messageRowFromPg(d.env, d.ctx, d.st.conv.id!, seq);
  if (!row) return undefined;
  d.storage.sql.exec(
    `INSERT OR IGNORE INTO messages (seq, id, sender_id, client_msg_id, type, content, file_id, reply_to_seq, mentions, created_at,
       msg_no, mention_all, forwarded_from, edited_at, gone, expires_at, reactions, version, origin)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
    row.seq, row.id, row.sender_id, row.client_msg_id, row.type, row.content, row.file_id, row.reply_to_seq, row.mentions, row.created_at,
    row.msg_no, row.mention_all, row.forwarded_from, row.edited_at, row.gone, row.expires_at, row.reactions, row.version,
  );
  return messageAt(d.st, d.storage.sql, seq);
}

/** Is `seq` a message, an event, or nothing (for replyToSeq)? Asks Postgres below the hot window. */
export async function kindOf(d: Deps, seq: number): Promise<'message' | 'event' | 'none'> {
  if (seq < 1 || seq > d.st.conv.lastSeq) return 'none';
  return (await loadMessage(d, seq)) ? 'message' : 'event';
}

/** The message number at `seq`: the read cursor's companion. */
export async function msgNoFor(d: Deps, seq: number): Promise<number> {
  const { hotFrom, hotMsgBase, lastSeq, msgCount } = d.st.conv;
  if (seq >= lastSeq) return msgCount;
  if (seq >= hotFrom - 1) {
    const r = d.storage.sql.exec<{ n: number | null }>('SELECT max(msg_no) AS n FROM messages WHERE seq BETWEEN ? AND ?', hotFrom, seq).one();
    return r.n ?? hotMsgBase;
  }
  return msgNoAt(d.env, d.ctx, d.st.conv.id!, seq);
}

/** A member's counters in O(1) plus the tombstones and mentions after their cursor. */
export function counters(d: Deps, m: Member): Counters {
  const sql = d.storage.sql;
  const { msgCount, lastSeq } = d.st.conv;
  const gone = sql.exec<{ n: number }>('SELECT count(*) AS n FROM tombstones WHERE msg_no > ?', m.readMsgNo).one().n;
  const mentions = sql.exec<{ n: number }>("SELECT count(*) AS n FROM mentions WHERE user_id IN (?, '*') AND seq > ?", m.userId, m.readSeq).one().n;
  const last = sql.exec<MessageRow>('SELECT * FROM messages WHERE seq >= ? ORDER BY seq DESC LIMIT 1', visibleFrom(m)).toArray()[0];
  return {
    lastSeq,
    readSeq: m.readSeq,
    unreadCount: Math.max(0, msgCount - m.readMsgNo - gone),
    mentionCount: mentions,
    joinedSeq: m.joinedSeq,
    ...(last ? { lastMessage: toMessage(d.st.conv.id!, last) } : {}),
  };
}

/** Who has read the message at `seq`: members (not its sender) whose cursor reached it. */
export function receipts(d: Deps, message: Message): { readBy: string[]; memberCount: number } {
  const others = [...d.st.members.values()].filter((x) => x.leftSeq === null && x.userId !== message.senderId);
  return { readBy: others.filter((x) => x.readSeq >= message.seq).map((x) => x.userId), memberCount: others.length };
}
