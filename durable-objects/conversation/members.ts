/**
 * Membership and settings, mirrored from Postgres (the record) and turned
 * into events of the stream. Each mirror carries the conversation's version
 * (`members_version`, bumped by every change); an older mirror than the one
 * applied is ignored, a repeated one finds nothing to change, so mirrors may
 * arrive late, twice or after a lost one — the diff against what this object
 * holds becomes the events, in one append.
 */
import { and, inArray } from 'drizzle-orm';
import { blocks as blocksTable } from '../../db/schema.ts';
import type { EventDraft, SettingsChanges } from '../../protocol/events.ts';
import type { ConversationMirror } from '../contracts.ts';
import { type Ctx, withDb } from '../kit/postgres.ts';
import type { Change } from './event-log.ts';
import type { ConversationState, Settings } from './state.ts';

/** The first mirror creates the conversation: founders see it from the start, with no events. */
export function found(st: ConversationState, sql: SqlStorage, storage: DurableObjectStorage, m: ConversationMirror): void {
  storage.transactionSync(() => {
    sql.exec('UPDATE state SET conversation_id = ?, kind = ?, members_version = ?, settings = ? WHERE id = 1', m.conversationId, m.kind, m.version, JSON.stringify(m.settings));
    for (const { userId, role } of m.members) {
      sql.exec('INSERT OR REPLACE INTO members (user_id, role, read_seq, read_msg_no, joined_seq, left_seq) VALUES (?, ?, 0, 0, 0, NULL)', userId, role);
    }
  });
  Object.assign(st.conv, { id: m.conversationId, kind: m.kind, version: m.version, settings: m.settings });
  for (const { userId, role } of m.members) st.setMember({ userId, role, readSeq: 0, readMsgNo: 0, joinedSeq: 0, leftSeq: null });
}

/** The events that take this object from what it holds to `m` (empty when nothing changed). */
export function diff(st: ConversationState, m: ConversationMirror): Change[] {
  const actorId = m.cause?.actorId ?? m.members.find((x) => x.role === 'owner')?.userId ?? m.members[0]?.userId ?? 'system';
  const changes: Change[] = [];
  const next = new Map(m.members.map((x) => [x.userId, x.role]));
  const joined = m.members.filter((x) => !st.member(x.userId));
  if (joined.length) {
    changes.push({
      event: { kind: 'member.joined', actorId, userIds: joined.map((x) => x.userId) },
      roles: Object.fromEntries(joined.map((x) => [x.userId, x.role])),
    });
  }
  for (const id of st.memberIds()) {
    if (next.has(id)) continue;
    const left = m.cause?.left?.includes(id) ?? false;
    changes.push({ event: left ? { kind: 'member.left', actorId: id, userId: id } : { kind: 'member.removed', actorId, userId: id } });
  }
  for (const [userId, role] of next) {
    const current = st.member(userId);
    if (current && current.role !== role) changes.push({ event: { kind: 'member.role_changed', actorId, userId, role } });
  }
  const changed = settingsChanges(st.conv.settings, m.settings);
  if (changed) changes.push({ event: { kind: 'conversation.updated', actorId, changes: changed } satisfies EventDraft });
  return changes;
}

function settingsChanges(before: Settings, after: Settings): SettingsChanges | undefined {
  const out: SettingsChanges = {};
  if (after.name !== undefined && before.name !== after.name) out.name = after.name; // a group always has a name
  for (const key of ['avatarFileId', 'announcement'] as const) {
    if ((before[key] ?? null) !== (after[key] ?? null)) out[key] = after[key] ?? null;
  }
  if ((before.messageTtlSeconds ?? 0) !== (after.messageTtlSeconds ?? 0)) out.messageTtlSeconds = after.messageTtlSeconds ?? 0;
  return Object.keys(out).length ? out : undefined;
}

export function recordVersion(st: ConversationState, sql: SqlStorage, version: number): void {
  sql.exec('UPDATE state SET members_version = ? WHERE id = 1', version);
  st.conv.version = version;
}

/**
 * Blocks among the members, read again from Postgres (the record) after a
 * block or unblock, or after members joined. Reloads that finish out of order
 * keep the newest one: each takes a generation number when it starts.
 */
export class BlockMirror {
  private started = 0;
  private applied = 0;

  async refresh(st: ConversationState, storage: DurableObjectStorage, env: Env, ctx: Ctx): Promise<void> {
    const gen = ++this.started;
    const ids = st.memberIds();
    const rows = ids.length < 2 ? [] : await withDb(env, ctx, (db) =>
      db.select({ blocker: blocksTable.blockerId, blocked: blocksTable.blockedId }).from(blocksTable)
        .where(and(inArray(blocksTable.blockerId, ids), inArray(blocksTable.blockedId, ids))),
    );
    if (gen <= this.applied) return;
    this.applied = gen;
    storage.transactionSync(() => {
      storage.sql.exec('DELETE FROM blocks');
      for (const r of rows) storage.sql.exec('INSERT OR IGNORE INTO blocks (blocker_id, blocked_id) VALUES (?, ?)', r.blocker, r.blocked);
    });
    st.blocks.clear();
    for (const r of rows) st.blocks.add(`${r.blocker}|${r.blocked}`);
  }
}
