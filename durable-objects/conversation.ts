/**
 * ConversationDO — one per conversation (addressed by its id): the single
 * writer of the conversation's `seq` stream.
 *
 * The send path: check membership and blocks → dedupe (senderId,
 * clientMsgId) → assign the next dense `seq` and insert, in one synchronous
 * block of SQLite calls (no await in between, so sends cannot interleave) →
 * return the ack (the output gate holds it until the write is durable) →
 * broadcast to live viewers → deliver to every member's UserDO (or, for large
 * groups, through QStash). Postgres gets the message later from the outbox,
 * pumped by the alarm; fan-outs that failed are retried by the same alarm.
 */
import { DurableObject } from 'cloudflare:workers';
import { checkContent, type Message, type SendInput, type ServerFrame } from '../protocol/messages.ts';
import type { Failure, HistoryQuery, HistoryResult, MemberMirror, Origin, ReadResult, Role, SendResult, SummaryResult } from './contracts.ts';
import { uuidv7 } from '../lib/ids.ts';
import { prepareFileMessage } from '../services/files/messages.ts';
import { qstashClient } from '../services/qstash.ts';
import { flushToPostgres, historyFromPostgres } from './conversation-store.ts';
import { errorFrame, parseFrame, sendFrame } from './sockets.ts';
import { migrateSql } from './sql-migrations.ts';

const MIGRATIONS = [
  `CREATE TABLE state (id INTEGER PRIMARY KEY CHECK (id = 1), conversation_id TEXT, kind TEXT,
     members_version INTEGER NOT NULL DEFAULT 0, last_seq INTEGER NOT NULL DEFAULT 0, flushed_seq INTEGER NOT NULL DEFAULT 0,
     flush_failures INTEGER NOT NULL DEFAULT 0, flush_at INTEGER);
   INSERT INTO state (id) VALUES (1);
   CREATE TABLE members (user_id TEXT PRIMARY KEY, role TEXT NOT NULL, last_read_seq INTEGER NOT NULL DEFAULT 0);
   CREATE TABLE blocks (blocker_id TEXT NOT NULL, blocked_id TEXT NOT NULL, PRIMARY KEY (blocker_id, blocked_id));
   CREATE TABLE messages (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, sender_id TEXT NOT NULL, client_msg_id TEXT NOT NULL,
     type TEXT NOT NULL, content TEXT NOT NULL, file_id TEXT, reply_to_seq INTEGER, mentions TEXT, created_at TEXT NOT NULL);
   CREATE TABLE dedupe (sender_id TEXT NOT NULL, client_msg_id TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL,
     created_at TEXT NOT NULL, PRIMARY KEY (sender_id, client_msg_id));
   CREATE TABLE fanout (seq INTEGER PRIMARY KEY, origin_device TEXT, attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL);`,
];

/** Groups larger than this do not get typing events or per-member read receipts. */
const CHATTY_LIMIT = 100;
const FLUSH_BATCH = 200;
const FLUSH_DELAY_MS = 50;

interface StateRow {
  conversation_id: string | null;
  kind: string | null;
  members_version: number;
  last_seq: number;
  flushed_seq: number;
  flush_failures: number;
  flush_at: number | null;
  [key: string]: SqlStorageValue;
}

interface MessageRow {
  seq: number;
  id: string;
  sender_id: string;
  client_msg_id: string;
  type: string;
  content: string;
  file_id: string | null;
  reply_to_seq: number | null;
  mentions: string | null;
  created_at: string;
  [key: string]: SqlStorageValue;
}

export function toMessage(conversationId: string, r: MessageRow): Message {
  return {
    id: r.id,
    conversationId,
    seq: r.seq,
    senderId: r.sender_id,
    clientMsgId: r.client_msg_id,
    type: r.type as Message['type'],
    content: JSON.parse(r.content) as Message['content'],
    ...(r.file_id ? { fileId: r.file_id } : {}),
    ...(r.reply_to_seq ? { replyToSeq: r.reply_to_seq } : {}),
    ...(r.mentions ? { mentions: JSON.parse(r.mentions) as string[] } : {}),
    createdAt: r.created_at,
  };
}

export class ConversationDO extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => migrateSql(ctx.storage, MIGRATIONS));
  }

  private state(): StateRow {
    return this.sql.exec<StateRow>('SELECT * FROM state WHERE id = 1').one();
  }

  private role(userId: string): Role | undefined {
    return this.sql.exec<{ role: Role }>('SELECT role FROM members WHERE user_id = ?', userId).toArray()[0]?.role;
  }

  private memberIds(): string[] {
    return this.sql.exec<{ user_id: string }>('SELECT user_id FROM members').toArray().map((r) => r.user_id);
  }

  private notMember(): Failure {
    return this.state().conversation_id
      ? { ok: false, code: 'not_member', message: 'You are not a member of this conversation' }
      : { ok: false, code: 'not_found', message: 'No such conversation' };
  }

  async ping(): Promise<{ ok: true; kind: 'conversation' }> {
    return { ok: true, kind: 'conversation' };
  }

  /** Mirrors membership from Postgres. Idempotent; a mirror older than the one applied is ignored. */
  async setMembers(mirror: MemberMirror): Promise<{ ok: true; applied: boolean }> {
    const state = this.state();
    if (mirror.version < state.members_version) return { ok: true, applied: false };
    const keep = new Set(mirror.members.map((m) => m.userId));
    const removed = this.memberIds().filter((id) => !keep.has(id));
    this.ctx.storage.transactionSync(() => {
      this.sql.exec('UPDATE state SET conversation_id = ?, kind = ?, members_version = ? WHERE id = 1', mirror.conversationId, mirror.kind, mirror.version);
      for (const id of removed) this.sql.exec('DELETE FROM members WHERE user_id = ?', id);
      for (const m of mirror.members) {
        // A newcomer starts with nothing unread; an existing member keeps their cursor.
        this.sql.exec(
          'INSERT INTO members (user_id, role, last_read_seq) VALUES (?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET role = excluded.role',
          m.userId, m.role, state.last_seq,
        );
      }
    });
    for (const id of removed) for (const ws of this.ctx.getWebSockets(`user:${id}`)) ws.close(4003, 'no longer a member');
    return { ok: true, applied: true };
  }

  /** Records a block between the two members of a single conversation (mirrored from Postgres). */
  async setBlock(blockerId: string, blockedId: string, blocked: boolean): Promise<{ ok: true }> {
    if (blocked) this.sql.exec('INSERT OR IGNORE INTO blocks VALUES (?, ?)', blockerId, blockedId);
    else this.sql.exec('DELETE FROM blocks WHERE blocker_id = ? AND blocked_id = ?', blockerId, blockedId);
    return { ok: true };
  }

  async send(senderId: string, input: SendInput, origin: Origin = {}): Promise<SendResult> {
    if (!this.role(senderId)) return this.notMember();
    const invalid = checkContent(input);
    if (invalid) return { ok: false, code: 'validation_failed', message: invalid };
    const blocked = this.sql.exec('SELECT 1 FROM blocks WHERE blocker_id = ? OR blocked_id = ?', senderId, senderId).toArray().length > 0;
    if (blocked) return { ok: false, code: 'blocked', message: 'Messages between you and this user are blocked' };
    if (input.type !== 'text' && input.fileId) {
      // Before the synchronous block: may the sender send this file, and let the members read it from now on.
      const prepared = await prepareFileMessage(this.env, this.ctx, { senderId, conversationId: this.state().conversation_id!, fileId: input.fileId, msgType: input.type });
      if (!prepared.ok) return prepared;
      // Image dimensions come from the file's header, not from the client.
      const { width, height } = prepared.file;
      if (input.type === 'image' && width && height && typeof input.content === 'object') input = { ...input, content: { ...input.content, width, height } };
    }

    // From here to the return: synchronous SQLite only, so no other send can interleave.
    const state = this.state();
    const conversationId = state.conversation_id!;
    const dup = this.sql
      .exec<{ seq: number; id: string; created_at: string }>('SELECT seq, id, created_at FROM dedupe WHERE sender_id = ? AND client_msg_id = ?', senderId, input.clientMsgId)
      .toArray()[0];
    if (dup) {
      const row = this.sql.exec<MessageRow>('SELECT * FROM messages WHERE seq = ?', dup.seq).toArray()[0];
      const ack = { clientMsgId: input.clientMsgId, conversationId, seq: dup.seq, id: dup.id, createdAt: dup.created_at };
      const message = row ? toMessage(conversationId, row) : { ...ack, senderId, type: input.type, content: input.content };
      return { ok: true, ack, message, duplicate: true };
    }
    if (input.replyToSeq && input.replyToSeq > state.last_seq) return { ok: false, code: 'validation_failed', message: 'replyToSeq names no message' };
    const members = new Set(this.memberIds());
    const stranger = input.mentions?.find((id) => !members.has(id));
    if (stranger) return { ok: false, code: 'validation_failed', message: `mentions: ${stranger} is not a member` };

    const now = Date.now();
    const seq = state.last_seq + 1;
    const id = uuidv7(now);
    const createdAt = new Date(now).toISOString();
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        'INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        seq, id, senderId, input.clientMsgId, input.type, JSON.stringify(input.content), input.fileId ?? null,
        input.replyToSeq ?? null, input.mentions ? JSON.stringify(input.mentions) : null, createdAt,
      );
      this.sql.exec('INSERT INTO dedupe VALUES (?, ?, ?, ?, ?)', senderId, input.clientMsgId, seq, id, createdAt);
      this.sql.exec('UPDATE state SET last_seq = ? WHERE id = 1', seq);
      // Sending counts as reading.
      this.sql.exec('UPDATE members SET last_read_seq = ? WHERE user_id = ?', seq, senderId);
      this.sql.exec('INSERT INTO fanout (seq, origin_device, next_at) VALUES (?, ?, ?)', seq, origin.deviceId ?? null, now);
    });
    this.scheduleFlush(now);

    const message = toMessage(conversationId, this.sql.exec<MessageRow>('SELECT * FROM messages WHERE seq = ?', seq).one());
    this.broadcast({ type: 'message.new', message });
    this.ctx.waitUntil(this.fanOut(seq));
    return { ok: true, ack: { clientMsgId: input.clientMsgId, conversationId, seq, id, createdAt }, message, duplicate: false };
  }

  /** Moves `userId`'s read cursor forward (never back) and tells the members. */
  async markRead(userId: string, seq: number): Promise<ReadResult> {
    if (!this.role(userId)) return this.notMember();
    const { last_seq: lastSeq, conversation_id: conversationId } = this.state();
    const target = Math.min(seq, lastSeq);
    const current = this.sql.exec<{ s: number }>('SELECT last_read_seq AS s FROM members WHERE user_id = ?', userId).one().s;
    if (target <= current) return { ok: true, seq: current };
    this.sql.exec('UPDATE members SET last_read_seq = ? WHERE user_id = ?', target, userId);
    const frame: ServerFrame = { type: 'receipt.read', conversationId: conversationId!, userId, seq: target };
    this.broadcast(frame);
    // The reader's own UserDO always hears it (unread counts, their other devices); in large groups only it does.
    const audience = this.memberIds().length > CHATTY_LIMIT ? [userId] : this.memberIds();
    this.ctx.waitUntil(Promise.allSettled(audience.map((id) => this.env.USERS.getByName(id).push(frame))));
    return { ok: true, seq: target };
  }

  /** Typing is ephemeral: pushed to the other members' online devices, never stored. */
  async typing(userId: string): Promise<{ ok: true } | Failure> {
    if (!this.role(userId)) return this.notMember();
    const members = this.memberIds();
    if (members.length > CHATTY_LIMIT) return { ok: true };
    const frame: ServerFrame = { type: 'typing', conversationId: this.state().conversation_id!, userId };
    this.broadcast(frame, userId);
    await Promise.allSettled(members.filter((id) => id !== userId).map((id) => this.env.USERS.getByName(id).push(frame)));
    return { ok: true };
  }

  /** Ascending pages of the stream: the hot window from SQLite, older pages from Postgres. */
  async history(userId: string, q: HistoryQuery): Promise<HistoryResult> {
    if (!this.role(userId)) return this.notMember();
    const { conversation_id: conversationId, last_seq: lastSeq } = this.state();
    const limit = Math.max(1, Math.min(q.limit, 100));
    const after = q.afterSeq ?? 0;
    const before = q.beforeSeq ?? lastSeq + 1;
    // Without afterSeq a page is the newest `limit` below `before`; with it, the oldest `limit` above `after`.
    const from = q.afterSeq !== undefined ? after + 1 : Math.max(after + 1, before - limit);
    const to = Math.min(before - 1, from + limit - 1);
    if (to < from) return { ok: true, items: [], lastSeq };
    // Below the hot window everything is in Postgres (only flushed messages are pruned); the window itself may not be yet.
    const oldestHot = this.sql.exec<{ s: number | null }>('SELECT min(seq) AS s FROM messages').one().s ?? lastSeq + 1;
    const hot = this.sql
      .exec<MessageRow>('SELECT * FROM messages WHERE seq BETWEEN ? AND ? ORDER BY seq', Math.max(from, oldestHot), to)
      .toArray()
      .map((r) => toMessage(conversationId!, r));
    const cold = from < oldestHot ? await historyFromPostgres(this.env, this.ctx, conversationId!, from, Math.min(to, oldestHot - 1)) : [];
    return { ok: true, items: [...cold, ...hot], lastSeq };
  }

  async summary(userId: string): Promise<SummaryResult> {
    if (!this.role(userId)) return this.notMember();
    const { conversation_id: conversationId, last_seq: lastSeq } = this.state();
    const lastReadSeq = this.sql.exec<{ s: number }>('SELECT last_read_seq AS s FROM members WHERE user_id = ?', userId).one().s;
    const row = this.sql.exec<MessageRow>('SELECT * FROM messages ORDER BY seq DESC LIMIT 1').toArray()[0];
    return { ok: true, lastSeq, lastReadSeq, ...(row ? { lastMessage: toMessage(conversationId!, row) } : {}) };
  }

  // ── fan-out ────────────────────────────────────────────────────────────

  /** Delivers one committed message to every member's UserDO; on failure the alarm retries. */
  private async fanOut(seq: number): Promise<void> {
    const job = this.sql.exec<{ origin_device: string | null; attempts: number }>('SELECT origin_device, attempts FROM fanout WHERE seq = ?', seq).toArray()[0];
    if (!job) return;
    const row = this.sql.exec<MessageRow>('SELECT * FROM messages WHERE seq = ?', seq).toArray()[0];
    const conversationId = this.state().conversation_id!;
    const members = this.memberIds();
    let ok = true;
    if (row) {
      const message = toMessage(conversationId, row);
      const origin = { senderId: message.senderId, deviceId: job.origin_device ?? undefined };
      try {
        if (members.length > Number(this.env.FANOUT_RPC_LIMIT)) {
          await this.publishFanout(message, members, origin.deviceId);
        } else {
          const results = await Promise.allSettled(members.map((id) => this.env.USERS.getByName(id).deliver(message, id === origin.senderId ? origin.deviceId : undefined)));
          ok = results.every((r) => r.status === 'fulfilled');
        }
      } catch (err) {
        console.log(JSON.stringify({ event: 'fanout.failed', conversationId, seq, error: String(err) }));
        ok = false;
      }
    }
    if (ok) {
      this.sql.exec('DELETE FROM fanout WHERE seq = ?', seq);
    } else {
      const delay = Math.min(60_000, 500 * 2 ** job.attempts);
      this.sql.exec('UPDATE fanout SET attempts = attempts + 1, next_at = ? WHERE seq = ?', Date.now() + delay, seq);
      await this.scheduleAlarm(Date.now() + delay);
    }
  }

  /** Large groups: the per-member delivery goes to QStash in batches, signed back to /internal/jobs/deliver. */
  private async publishFanout(message: Message, members: string[], originDevice?: string): Promise<void> {
    const batches = [];
    for (let i = 0; i < members.length; i += 100) {
      batches.push({
        url: `${this.env.PUBLIC_URL}/internal/jobs/deliver`,
        body: JSON.stringify({ message, userIds: members.slice(i, i + 100), originDevice }),
        headers: { 'content-type': 'application/json' },
        deduplicationId: `deliver-${message.conversationId}-${message.seq}-${i}`,
      });
    }
    await qstashClient(this.env).batch(batches);
  }

  private broadcast(frame: ServerFrame, exceptUserId?: string): void {
    for (const ws of this.ctx.getWebSockets()) {
      const { userId } = ws.deserializeAttachment() as { userId: string };
      if (userId !== exceptUserId) sendFrame(ws, frame);
    }
  }

  // ── alarm: outbox flush, fan-out retries, pruning ──────────────────────

  private scheduleFlush(now: number): void {
    const { flush_at: flushAt } = this.state();
    if (flushAt === null) {
      this.sql.exec('UPDATE state SET flush_at = ? WHERE id = 1', now + FLUSH_DELAY_MS);
      void this.scheduleAlarm(now + FLUSH_DELAY_MS);
    }
  }

  private async scheduleAlarm(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    const state = this.state();
    if (state.flush_at !== null && state.flush_at <= now) await this.flush(state);
    for (const { seq } of this.sql.exec<{ seq: number }>('SELECT seq FROM fanout WHERE next_at <= ? ORDER BY seq LIMIT 50', now).toArray()) {
      await this.fanOut(seq);
    }
    const next = [this.state().flush_at, this.sql.exec<{ t: number | null }>('SELECT min(next_at) AS t FROM fanout').one().t].filter((t): t is number => t !== null);
    if (next.length) await this.ctx.storage.setAlarm(Math.max(Date.now() + 10, Math.min(...next)));
  }

  /** Writes committed messages past `flushed_seq` to Postgres, idempotently; backs off while Postgres is down. */
  private async flush(state: StateRow): Promise<void> {
    const rows = this.sql.exec<MessageRow>('SELECT * FROM messages WHERE seq > ? ORDER BY seq LIMIT ?', state.flushed_seq, FLUSH_BATCH).toArray();
    if (rows.length === 0) {
      this.sql.exec('UPDATE state SET flush_at = NULL, flush_failures = 0 WHERE id = 1');
      return;
    }
    try {
      await flushToPostgres(this.env, this.ctx, rows.map((r) => toMessage(state.conversation_id!, r)));
    } catch (err) {
      const delay = Math.min(30_000, 200 * 2 ** state.flush_failures);
      console.log(JSON.stringify({ event: 'outbox.flush_failed', conversationId: state.conversation_id, attempt: state.flush_failures + 1, retryInMs: delay, error: String(err) }));
      this.sql.exec('UPDATE state SET flush_failures = flush_failures + 1, flush_at = ? WHERE id = 1', Date.now() + delay);
      return;
    }
    const flushed = rows.at(-1)!.seq;
    const more = flushed < this.state().last_seq;
    this.sql.exec('UPDATE state SET flushed_seq = ?, flush_failures = 0, flush_at = ? WHERE id = 1', flushed, more ? Date.now() : null);
    // Keep the hot window (HOT_WINDOW_MESSAGES); everything older is safely in Postgres.
    this.sql.exec('DELETE FROM messages WHERE seq <= ? AND seq <= ?', flushed, this.state().last_seq - Number(this.env.HOT_WINDOW_MESSAGES));
  }

  /** Test and operations hook: where the outbox stands. */
  async outboxStatus(): Promise<{ lastSeq: number; flushedSeq: number; pendingFanouts: number }> {
    const s = this.state();
    const pending = this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM fanout').one().n;
    return { lastSeq: s.last_seq, flushedSeq: s.flushed_seq, pendingFanouts: pending };
  }

  // ── live-view sockets ──────────────────────────────────────────────────

  /** Only the WebSocket upgrade comes here; the Worker authenticated the user and set `x-beehive-user`. */
  override async fetch(request: Request): Promise<Response> {
    const userId = request.headers.get('x-beehive-user');
    if (request.headers.get('upgrade') !== 'websocket' || !userId) return new Response('expected a WebSocket upgrade', { status: 426 });
    if (!this.role(userId)) return Response.json({ error: { code: 'not_member', message: 'You are not a member of this conversation' } }, { status: 403 });
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1], [`user:${userId}`]);
    pair[1].serializeAttachment({ userId });
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    const { userId } = ws.deserializeAttachment() as { userId: string };
    const parsed = parseFrame(data);
    if (!parsed.ok) return sendFrame(ws, parsed.error);
    const frame = parsed.frame;
    const conversationId = this.state().conversation_id!;
    if ('conversationId' in frame && frame.conversationId !== conversationId) {
      return sendFrame(ws, errorFrame('validation_failed', 'This socket carries one conversation', 'clientMsgId' in frame ? frame.clientMsgId : undefined));
    }
    switch (frame.type) {
      case 'ping':
        return sendFrame(ws, { type: 'pong' });
      case 'message.send': {
        const { type: _t, conversationId: _c, msgType, ...rest } = frame;
        // Through the sender's UserDO, so the per-user rate limit holds on every path.
        const result: SendResult = await this.env.USERS.getByName(userId).send(conversationId, { ...rest, type: msgType }, {});
        return sendFrame(ws, result.ok ? { type: 'message.ack', ...result.ack } : errorFrame(result.code, result.message, frame.clientMsgId));
      }
      case 'message.read': {
        const result = await this.markRead(userId, frame.seq);
        if (!result.ok) sendFrame(ws, errorFrame(result.code, result.message));
        return;
      }
      case 'typing': {
        await this.typing(userId);
        return;
      }
      case 'sync': {
        let cursor = frame.cursors[conversationId] ?? this.sql.exec<{ s: number }>('SELECT last_read_seq AS s FROM members WHERE user_id = ?', userId).toArray()[0]?.s ?? 0;
        for (;;) {
          const page = await this.history(userId, { afterSeq: cursor, limit: 100 });
          if (!page.ok) return sendFrame(ws, errorFrame(page.code, page.message));
          for (const message of page.items) sendFrame(ws, { type: 'message.new', message });
          cursor = page.items.at(-1)?.seq ?? cursor;
          if (page.items.length === 0 || cursor >= page.lastSeq) break;
        }
        return sendFrame(ws, { type: 'sync.done', cursors: { [conversationId]: cursor } });
      }
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    ws.close(code === 1005 ? 1000 : code, reason);
  }
}
