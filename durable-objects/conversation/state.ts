/**
 * What a ConversationDO knows, kept in memory: the state row, the members and
 * the blocks between them, loaded once when the object starts and updated by
 * the same code that writes them, right after each commit. The object is the
 * only writer of its storage, so the copy cannot drift; the send path reads
 * no row it has in memory.
 */
import type { StreamItem } from '../../protocol/events.ts';
import type { Role } from '../contracts.ts';
import type { MemberRow, StateRow, TargetInfo } from './schema.ts';

/** One entry of the log, with what its consumers need besides the API's item. */
export interface Entry {
  seq: number;
  /** The message in its current state, or the event. */
  item: StreamItem;
  /** The device that made the change (it got the answer, not a copy). */
  origin?: string;
  /**
   * The actor's UserDO took the entry from the answer (in memory only: after a restart the fan-out
   * delivers to it as to anyone, which `deliver` ignores as a repeat).
   */
  selfDelivered?: boolean;
  /** Recalls and expiries: what the message was. */
  target?: TargetInfo;
  /** Messages: their number among messages, and the seq of their last change. */
  msgNo?: number;
  version?: number;
}

export interface Settings {
  name?: string;
  avatarFileId?: string;
  announcement?: string;
  /** 0: messages do not expire. */
  messageTtlSeconds?: number;
}

export interface Member {
  userId: string;
  role: Role;
  readSeq: number;
  /** The message number (`msg_no`) at `readSeq`: unread = msgCount − readMsgNo − tombstones after it. */
  readMsgNo: number;
  /** The seq of their `member.joined` (0 for founders): they see the stream from there. */
  joinedSeq: number;
  /** Set once they left or were removed; the row stays until the fan-out has delivered that event. */
  leftSeq: number | null;
}

export interface Conv {
  id: string | null;
  kind: 'single' | 'group' | null;
  /** Version of the mirrored membership and settings (Postgres `members_version`). */
  version: number;
  lastSeq: number;
  msgCount: number;
  settings: Settings;
  /** Every seq ≥ hotFrom is held here; below it, Postgres has the stream. */
  hotFrom: number;
  /** Messages below hotFrom. */
  hotMsgBase: number;
}

const RECENT_MAX = 512;

export class ConversationState {
  conv: Conv;
  readonly members = new Map<string, Member>();
  /** `blocker|blocked` pairs among the members. */
  readonly blocks = new Set<string>();
  /** The latest entries in their current state, so fan-out and flush read no rows they just wrote. */
  readonly recent = new Map<number, Entry>();
  private currentIds: string[] | null = null;

  constructor(sql: SqlStorage) {
    const s = sql.exec<StateRow>('SELECT * FROM state WHERE id = 1').one();
    this.conv = {
      id: s.conversation_id,
      kind: s.kind,
      version: s.members_version,
      lastSeq: s.last_seq,
      msgCount: s.msg_count,
      settings: JSON.parse(s.settings) as Settings,
      hotFrom: s.hot_from,
      hotMsgBase: s.hot_msg_base,
    };
    for (const r of sql.exec<MemberRow>('SELECT * FROM members')) this.setMember(memberOf(r));
    for (const r of sql.exec<{ blocker_id: string; blocked_id: string }>('SELECT * FROM blocks')) this.blocks.add(`${r.blocker_id}|${r.blocked_id}`);
  }

  /** Created by a mirror from Postgres: an id we never heard of has no state and is answered `not_found`. */
  get exists(): boolean {
    return this.conv.id !== null;
  }

  member(userId: string): Member | undefined {
    const m = this.members.get(userId);
    return m && m.leftSeq === null ? m : undefined;
  }

  /** Current members' ids (cached until membership changes). */
  memberIds(): string[] {
    this.currentIds ??= [...this.members.values()].filter((m) => m.leftSeq === null).map((m) => m.userId);
    return this.currentIds;
  }

  setMember(m: Member): void {
    this.members.set(m.userId, m);
    this.currentIds = null;
  }

  dropMember(userId: string): void {
    this.members.delete(userId);
    this.currentIds = null;
  }

  /** Has either blocked the other? */
  blockedBetween(a: string, b: string): boolean {
    return this.blocks.has(`${a}|${b}`) || this.blocks.has(`${b}|${a}`);
  }

  /** Is `userId` in a block with anyone here (for single chats: with the other member)? */
  inAnyBlock(userId: string): boolean {
    for (const pair of this.blocks) if (pair.startsWith(`${userId}|`) || pair.endsWith(`|${userId}`)) return true;
    return false;
  }

  remember(entry: Entry): void {
    this.recent.set(entry.seq, entry);
    if (this.recent.size > RECENT_MAX) this.recent.delete(this.recent.keys().next().value!);
  }
}

export function memberOf(r: MemberRow): Member {
  return { userId: r.user_id, role: r.role, readSeq: r.read_seq, readMsgNo: r.read_msg_no, joinedSeq: r.joined_seq, leftSeq: r.left_seq };
}

/** What the conversation's modules work with: its state, its storage, its environment. */
export interface Deps {
  st: ConversationState;
  storage: DurableObjectStorage;
  env: Env;
  ctx: { waitUntil(p: Promise<unknown>): void };
}
