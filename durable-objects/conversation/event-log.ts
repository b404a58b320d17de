/**
 * The one append path. Every change to a conversation — a message, an edit,
 * a recall, a reaction, a membership or settings change, an expiry — becomes
 * the next `seq` here, in one synchronous SQLite transaction that also writes
 * its projections (the message's current state, the counters, the member
 * rows). No await may come between reading `lastSeq` and the commit, or a
 * concurrent change could take the same seq; callers validate first (their
 * awaits come before), then call `append`, then run the after-commit work
 * (broadcast, fan-out, the outbox consumers) with the entries it returns.
 *
 * The outbox needs no row per job: its consumers keep a cursor over this
 * log (outbox.ts), so an append writes the entry and its projections only.
 */
import { applyEvent, type Event, type EventDraft, isMessageEvent } from '../../protocol/events.ts';
import type { Draft, Message } from '../../protocol/messages.ts';
import { uuidv7 } from '../../lib/ids.ts';
import type { Role } from '../contracts.ts';
import { eventBody, itemOf, mutableColumns, toMessage } from './rows.ts';
import type { EventRow, MessageRow, TargetInfo } from './schema.ts';
import type { ConversationState, Entry, Member, Settings } from './state.ts';

export type Change =
  | { message: Draft; senderId: string; origin?: string; selfDelivered?: boolean }
  | {
      event: EventDraft;
      origin?: string;
      selfDelivered?: boolean;
      /** For `member.joined`: each newcomer's role. */
      roles?: Record<string, Role>;
    };

/** The current state of the message at `seq` if this object holds it (the caller hydrates older ones first). */
export function messageAt(st: ConversationState, sql: SqlStorage, seq: number): Message | undefined {
  const cached = st.recent.get(seq);
  if (cached) return 'message' in cached.item ? cached.item.message : undefined;
  const row = sql.exec<MessageRow>('SELECT * FROM messages WHERE seq = ?', seq).toArray()[0];
  return row ? toMessage(st.conv.id!, row) : undefined;
}

/** Entries with seq in [from, to] that this object holds, ascending (from memory where it can). */
export function entriesIn(st: ConversationState, sql: SqlStorage, from: number, to: number): Entry[] {
  if (to < from) return [];
  const out: Entry[] = [];
  let complete = true;
  for (let seq = from; seq <= to; seq++) {
    const e = st.recent.get(seq);
    if (!e) {
      complete = false;
      break;
    }
    out.push(e);
  }
  if (complete) return out;
  const conversationId = st.conv.id!;
  const rows: Array<MessageRow | EventRow> = [
    ...sql.exec<MessageRow>('SELECT * FROM messages WHERE seq BETWEEN ? AND ?', from, to),
    ...sql.exec<EventRow>('SELECT * FROM events WHERE seq BETWEEN ? AND ?', from, to),
  ];
  return rows
    .map((r): Entry => ({
      seq: r.seq,
      item: itemOf(conversationId, r),
      ...(r.origin ? { origin: r.origin } : {}),
      ...('sender_id' in r ? { msgNo: (r as MessageRow).msg_no, version: (r as MessageRow).version } : {}),
      ...('target' in r && r.target ? { target: JSON.parse(r.target as string) as TargetInfo } : {}),
    }))
    .sort((a, b) => a.seq - b.seq);
}

/**
 * Appends `changes` in order, each at the next seq, in one transaction, and
 * returns the entries. Throws only on a storage failure, in which case
 * nothing was written and the in-memory state is as it was.
 */
export function append(st: ConversationState, storage: DurableObjectStorage, changes: Change[], now = Date.now()): Entry[] {
  const sql = storage.sql;
  const conversationId = st.conv.id!;
  const createdAt = new Date(now).toISOString();
  let { lastSeq, msgCount } = st.conv;
  let settings: Settings | undefined;
  const members = new Map<string, Member>();
  const member = (id: string) => members.get(id) ?? st.members.get(id);
  const entries: Entry[] = [];
  const touched = new Map<number, { message: Message; version: number }>();

  storage.transactionSync(() => {
    for (const change of changes) {
      const seq = ++lastSeq;
      if ('message' in change) {
        const msgNo = ++msgCount;
        const message = writeMessage(sql, conversationId, seq, msgNo, change, createdAt, st.conv.settings.messageTtlSeconds ?? 0, now);
        // Sending counts as reading.
        const sender = member(change.senderId);
        if (sender) members.set(sender.userId, { ...sender, readSeq: seq, readMsgNo: msgNo });
        entries.push({ seq, item: { message }, msgNo, version: seq, ...(change.origin ? { origin: change.origin } : {}), ...(change.selfDelivered ? { selfDelivered: true } : {}) });
        continue;
      }
      const event = { ...change.event, conversationId, seq, createdAt } as Event;
      const before = isMessageEvent(event) ? (touched.get(event.targetSeq)?.message ?? messageAt(st, sql, event.targetSeq)) : undefined;
      const target = before && (event.kind === 'message.recalled' || event.kind === 'message.expired') ? targetInfo(before) : undefined;
      sql.exec(
        'INSERT INTO events (seq, kind, actor_id, body, created_at, origin, target) VALUES (?, ?, ?, ?, ?, ?, ?)',
        seq, event.kind, event.actorId, eventBody(event), createdAt, change.origin ?? null, target ? JSON.stringify(target) : null,
      );
      if (isMessageEvent(event)) {
        if (!before) throw new Error(`append: ${event.kind} of seq ${event.targetSeq}, which is not loaded`);
        const after = applyEvent(before, event);
        touched.set(event.targetSeq, { message: after, version: seq });
        projectMessage(sql, after, event, seq);
      } else if (event.kind === 'member.joined') {
        for (const userId of event.userIds) {
          members.set(userId, { userId, role: change.roles?.[userId] ?? 'member', readSeq: seq, readMsgNo: msgCount, joinedSeq: seq, leftSeq: null });
        }
      } else if (event.kind === 'member.left' || event.kind === 'member.removed') {
        const m = member(event.userId);
        if (m) members.set(m.userId, { ...m, leftSeq: seq });
      } else if (event.kind === 'member.role_changed') {
        const m = member(event.userId);
        if (m) members.set(m.userId, { ...m, role: event.role });
      } else if (event.kind === 'conversation.updated') {
        settings = mergeSettings(settings ?? st.conv.settings, event.changes);
      }
      entries.push({ seq, item: { event }, ...(change.origin ? { origin: change.origin } : {}), ...(change.selfDelivered ? { selfDelivered: true } : {}), ...(target ? { target } : {}) });
    }
    for (const m of members.values()) {
      sql.exec(
        `INSERT INTO members (user_id, role, read_seq, read_msg_no, joined_seq, left_seq) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (user_id) DO UPDATE SET role = excluded.role, read_seq = excluded.read_seq, read_msg_no = excluded.read_msg_no,
           joined_seq = excluded.joined_seq, left_seq = excluded.left_seq`,
        m.userId, m.role, m.readSeq, m.readMsgNo, m.joinedSeq, m.leftSeq,
      );
    }
    if (settings) sql.exec('UPDATE state SET last_seq = ?, msg_count = ?, settings = ? WHERE id = 1', lastSeq, msgCount, JSON.stringify(settings));
    else sql.exec('UPDATE state SET last_seq = ?, msg_count = ? WHERE id = 1', lastSeq, msgCount);
  });

  // Committed: now the in-memory copy follows.
  st.conv.lastSeq = lastSeq;
  st.conv.msgCount = msgCount;
  if (settings) st.conv.settings = settings;
  for (const m of members.values()) st.setMember(m);
  for (const e of entries) st.remember(e);
  for (const [seq, { message, version }] of touched) {
    const cached = st.recent.get(seq);
    if (cached) st.recent.set(seq, { ...cached, item: { message }, version });
  }
  return entries;
}

function writeMessage(
  sql: SqlStorage, conversationId: string, seq: number, msgNo: number,
  change: { message: Draft; senderId: string; origin?: string }, createdAt: string, ttlSeconds: number, now: number,
): Message {
  const d = change.message;
  const id = uuidv7(now);
  const expiresAt = ttlSeconds > 0 ? now + ttlSeconds * 1000 : null;
  const message: Message = {
    id, conversationId, seq, senderId: change.senderId, clientMsgId: d.clientMsgId, type: d.type, content: d.content,
    ...(d.fileId ? { fileId: d.fileId } : {}),
    ...(d.replyToSeq ? { replyToSeq: d.replyToSeq } : {}),
    ...(d.mentions?.length ? { mentions: d.mentions } : {}),
    ...(d.mentionAll ? { mentionAll: true } : {}),
    ...(d.forwardedFrom ? { forwardedFrom: d.forwardedFrom } : {}),
    ...(expiresAt !== null ? { expiresAt: new Date(expiresAt).toISOString() } : {}),
    createdAt,
  };
  const cols = mutableColumns(message);
  sql.exec(
    `INSERT INTO messages (seq, id, sender_id, client_msg_id, type, content, file_id, reply_to_seq, mentions, created_at,
       msg_no, mention_all, forwarded_from, edited_at, gone, expires_at, reactions, version, origin)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, NULL, ?, ?)`,
    seq, id, change.senderId, d.clientMsgId, d.type, cols.content, cols.file_id, d.replyToSeq ?? null, cols.mentions, createdAt,
    msgNo, cols.mention_all, cols.forwarded_from, expiresAt, seq, change.origin ?? null,
  );
  sql.exec('INSERT INTO dedupe (sender_id, client_msg_id, seq, id, created_at) VALUES (?, ?, ?, ?, ?)', change.senderId, d.clientMsgId, seq, id, createdAt);
  for (const userId of message.mentions ?? []) sql.exec('INSERT OR IGNORE INTO mentions (user_id, seq) VALUES (?, ?)', userId, seq);
  if (d.mentionAll) sql.exec("INSERT OR IGNORE INTO mentions (user_id, seq) VALUES ('*', ?)", seq);
  return message;
}

/** Writes a message's new current state and the projections an event keeps (tombstones, mentions, reactions). */
function projectMessage(sql: SqlStorage, after: Message, event: Event & { targetSeq: number }, seq: number): void {
  const c = mutableColumns(after);
  sql.exec(
    `UPDATE messages SET content = ?, file_id = ?, mentions = ?, mention_all = ?, edited_at = ?, gone = ?, reactions = ?,
       forwarded_from = ?, version = ? WHERE seq = ?`,
    c.content, c.file_id, c.mentions, c.mention_all, c.edited_at, c.gone, c.reactions, c.forwarded_from, seq, event.targetSeq,
  );
  if (event.kind === 'message.recalled' || event.kind === 'message.expired') {
    const msgNo = sql.exec<{ msg_no: number }>('SELECT msg_no FROM messages WHERE seq = ?', event.targetSeq).one().msg_no;
    sql.exec('INSERT OR IGNORE INTO tombstones (msg_no) VALUES (?)', msgNo);
    sql.exec('DELETE FROM mentions WHERE seq = ?', event.targetSeq);
    sql.exec('DELETE FROM reactions WHERE seq = ?', event.targetSeq);
  } else if (event.kind === 'reaction.added' || event.kind === 'reaction.removed') {
    sql.exec(
      `INSERT INTO reactions (seq, emoji, user_id, active, event_seq, at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (seq, emoji, user_id) DO UPDATE SET active = excluded.active, event_seq = excluded.event_seq, at = excluded.at`,
      event.targetSeq, event.emoji, event.actorId, event.kind === 'reaction.added' ? 1 : 0, seq, event.createdAt,
    );
  }
}

function targetInfo(m: Message): TargetInfo {
  return { senderId: m.senderId, ...(m.mentions ? { mentions: m.mentions } : {}), ...(m.mentionAll ? { mentionAll: true } : {}), ...(m.fileId ? { fileId: m.fileId } : {}) };
}

export function mergeSettings(current: Settings, changes: Extract<Event, { kind: 'conversation.updated' }>['changes']): Settings {
  const next: Settings = { ...current };
  for (const [key, value] of Object.entries(changes) as Array<[keyof Settings, string | number | null | undefined]>) {
    if (value === undefined) continue;
    if (value === null || (key === 'messageTtlSeconds' && value === 0)) delete next[key];
    else (next as Record<string, unknown>)[key] = value;
  }
  return next;
}
