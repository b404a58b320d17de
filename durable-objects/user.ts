/**
 * UserDO — one per user (addressed by user id): the user's device sockets
 * and inbox.
 *
 * - Device sockets use the hibernation API; each carries {userId, sessionId,
 *   deviceId} in its attachment and is tagged `sid:<sessionId>`, so revoking
 *   a session closes exactly its sockets.
 * - `deliver(message)` comes from ConversationDOs: it updates the user's
 *   conversation index (last seq, preview, read cursor → unread count) and
 *   pushes `message.new` to every device, in `seq` order with no gaps (a gap
 *   is filled from the ConversationDO first) and no duplicates.
 * - `sync` replays what a device missed, per conversation, from its cursors.
 * - Presence: first device online / last device offline, renewed by the alarm.
 */
import { DurableObject } from 'cloudflare:workers';
import type { ClientFrame, Message, ServerFrame } from '../protocol/messages.ts';
import { redisClient } from '../services/redis.ts';
import type { ConversationListItem, ConversationView, HistoryResult, Origin, SendInput, SendResult, SummaryResult } from './contracts.ts';
import { announcePresence, HEARTBEAT_MS } from './presence.ts';
import { errorFrame, parseFrame, sendFrame } from './sockets.ts';
import { migrateSql } from './sql-migrations.ts';
import { TokenBucket } from './token-bucket.ts';

const MIGRATIONS = [
  `CREATE TABLE state (id INTEGER PRIMARY KEY CHECK (id = 1), user_id TEXT);
   INSERT INTO state (id) VALUES (1);
   CREATE TABLE convs (conversation_id TEXT PRIMARY KEY, view TEXT, last_seq INTEGER NOT NULL DEFAULT 0,
     last_read_seq INTEGER NOT NULL DEFAULT 0, last_message TEXT, activity_at INTEGER NOT NULL);
   CREATE INDEX convs_activity ON convs (activity_at DESC, conversation_id);
   CREATE TABLE pending_events (id INTEGER PRIMARY KEY AUTOINCREMENT, frame TEXT NOT NULL);`,
];

/** Notifications kept for a user with no device online (oldest dropped past this). */
const PENDING_MAX = 1000;

interface Attachment {
  userId: string;
  sessionId: string;
  deviceId: string;
}

interface ConvRow {
  conversation_id: string;
  view: string | null;
  last_seq: number;
  last_read_seq: number;
  last_message: string | null;
  activity_at: number;
  [key: string]: SqlStorageValue;
}

/** List cursors: `<activity_at>|<conversation_id>` in base64url, opaque to clients. */
function encodeCursor(at: number, id: string): string {
  return btoa(`${at}|${id}`).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function decodeCursor(cursor: string | undefined): [number, string] | undefined {
  if (!cursor) return undefined;
  try {
    const [at, id] = atob(cursor.replace(/-/g, '+').replace(/_/g, '/')).split('|');
    return at && id && /^\d+$/.test(at) ? [Number(at), id] : undefined;
  } catch {
    return undefined;
  }
}

export class UserDO extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly bucket: TokenBucket;
  /** Sockets in the middle of a `sync`: live frames wait here so they follow the replay. Never outlives an await chain, so hibernation cannot lose it. */
  private readonly syncing = new Map<WebSocket, ServerFrame[]>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.bucket = new TokenBucket(Number(env.SEND_RATE_PER_SECOND), Number(env.SEND_BURST));
    ctx.blockConcurrencyWhile(async () => migrateSql(ctx.storage, MIGRATIONS));
  }

  /** The user this object belongs to: its name, remembered once learned. */
  private userId(hint?: string): string {
    const stored = this.sql.exec<{ user_id: string | null }>('SELECT user_id FROM state WHERE id = 1').one().user_id;
    const id = stored ?? hint ?? this.ctx.id.name;
    if (!id) throw new Error('UserDO does not know its user yet');
    if (!stored) this.sql.exec('UPDATE state SET user_id = ? WHERE id = 1', id);
    return id;
  }

  async ping(): Promise<{ ok: true; kind: 'user' }> {
    return { ok: true, kind: 'user' };
  }

  // ── from the Worker ────────────────────────────────────────────────────

  /** The device socket upgrade. The Worker authenticated the request and set the x-beehive-* headers. */
  override async fetch(request: Request): Promise<Response> {
    const userId = request.headers.get('x-beehive-user');
    const sessionId = request.headers.get('x-beehive-session');
    const deviceId = request.headers.get('x-beehive-device');
    if (request.headers.get('upgrade') !== 'websocket' || !userId || !sessionId || !deviceId) {
      return new Response('expected an authenticated WebSocket upgrade', { status: 426 });
    }
    this.userId(userId);
    const wasOnline = this.ctx.getWebSockets().length > 0;
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1], [`sid:${sessionId}`, `dev:${deviceId}`]);
    pair[1].serializeAttachment({ userId, sessionId, deviceId } satisfies Attachment);
    if (!wasOnline) {
      await announcePresence(this.env, this.ctx, userId, true);
      await this.ctx.storage.setAlarm(Date.now() + HEARTBEAT_MS);
    }
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  /** Closes every socket opened under `sessionId` (logout, password change, refresh-token reuse). Idempotent. */
  async closeSession(sessionId: string): Promise<number> {
    const sockets = this.ctx.getWebSockets(`sid:${sessionId}`);
    for (const ws of sockets) ws.close(4001, 'session revoked');
    return sockets.length;
  }

  /** A send from REST or any socket: the per-user rate limit, then the conversation's single writer. */
  async send(conversationId: string, input: SendInput, origin: Origin): Promise<SendResult> {
    if (!this.bucket.take()) return { ok: false, code: 'rate_limited', message: 'Sending too fast; slow down' };
    const result: SendResult = await this.env.CONVERSATIONS.getByName(conversationId).send(this.userId(), input, origin);
    return result;
  }

  async listConversations(q: { limit: number; cursor?: string }): Promise<{ items: ConversationListItem[]; nextCursor: string | null }> {
    const [at, id] = decodeCursor(q.cursor) ?? [Number.MAX_SAFE_INTEGER, ''];
    const rows = this.sql
      .exec<ConvRow>(
        `SELECT * FROM convs WHERE view IS NOT NULL AND (activity_at < ? OR (activity_at = ? AND conversation_id > ?))
         ORDER BY activity_at DESC, conversation_id LIMIT ?`,
        at, at, id, q.limit + 1,
      )
      .toArray();
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    return {
      items: page.map((r) => ({
        ...(JSON.parse(r.view!) as ConversationView),
        lastSeq: r.last_seq,
        ...(r.last_message ? { lastMessage: JSON.parse(r.last_message) as Message } : {}),
        unreadCount: Math.max(0, r.last_seq - r.last_read_seq),
      })),
      nextCursor: rows.length > q.limit && last ? encodeCursor(last.activity_at, last.conversation_id) : null,
    };
  }

  // ── from ConversationDOs and other actors ──────────────────────────────

  /**
   * A committed message for this user. Idempotent (`seq` is the version) and
   * gap-free: if messages between the last one seen and this one are
   * missing, they are fetched first, so devices see the stream in order.
   */
  async deliver(message: Message, exceptDevice?: string): Promise<{ ok: true }> {
    const convId = message.conversationId;
    const known = this.conv(convId);
    if (known && message.seq <= known.last_seq) return { ok: true };
    let batch = [message];
    if (known && known.last_seq > 0 && message.seq > known.last_seq + 1) {
      const gap: HistoryResult = await this.env.CONVERSATIONS.getByName(convId).history(this.userId(), { afterSeq: known.last_seq, beforeSeq: message.seq, limit: 100 });
      if (gap.ok) batch = [...gap.items, message];
    }
    // Another delivery may have moved on while we waited.
    const lastSeq = this.conv(convId)?.last_seq ?? 0;
    batch = batch.filter((m) => m.seq > lastSeq);
    const newest = batch.at(-1);
    if (!newest) return { ok: true };
    const me = this.userId();
    const readUpTo = batch.filter((m) => m.senderId === me).at(-1)?.seq ?? 0;
    this.sql.exec(
      `INSERT INTO convs (conversation_id, last_seq, last_read_seq, last_message, activity_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (conversation_id) DO UPDATE SET last_seq = excluded.last_seq, last_message = excluded.last_message,
         activity_at = excluded.activity_at, last_read_seq = max(last_read_seq, excluded.last_read_seq)`,
      convId, newest.seq, readUpTo, JSON.stringify(newest), Date.parse(newest.createdAt),
    );
    for (const m of batch) {
      this.pushToDevices({ type: 'message.new', message: m }, m.senderId === me ? exceptDevice : undefined);
    }
    return { ok: true };
  }

  /** Ephemeral frames (receipts, typing, presence): pushed to online devices, never queued. */
  async push(frame: ServerFrame): Promise<{ ok: true }> {
    if (frame.type === 'receipt.read' && frame.userId === this.userId()) {
      this.sql.exec('UPDATE convs SET last_read_seq = max(last_read_seq, ?) WHERE conversation_id = ?', frame.seq, frame.conversationId);
    }
    this.pushToDevices(frame);
    return { ok: true };
  }

  /** Notifications (friend requests, …): pushed now, or kept until a device syncs. */
  async notify(frame: ServerFrame): Promise<{ ok: true; queued: boolean }> {
    if (this.ctx.getWebSockets().length > 0) {
      this.pushToDevices(frame);
      return { ok: true, queued: false };
    }
    this.sql.exec('INSERT INTO pending_events (frame) VALUES (?)', JSON.stringify(frame));
    this.sql.exec('DELETE FROM pending_events WHERE id <= (SELECT max(id) FROM pending_events) - ?', PENDING_MAX);
    return { ok: true, queued: true };
  }

  /** A conversation's details changed (created, renamed, members added/removed). */
  async conversationUpdated(view: ConversationView): Promise<{ ok: true }> {
    const me = this.userId();
    if (!view.members.some((m) => m.userId === me)) {
      this.sql.exec('DELETE FROM convs WHERE conversation_id = ?', view.id);
    } else if (this.conv(view.id)) {
      this.sql.exec('UPDATE convs SET view = ? WHERE conversation_id = ?', JSON.stringify(view), view.id);
    } else {
      // New to this user: start from where the conversation stands.
      const s: SummaryResult = await this.env.CONVERSATIONS.getByName(view.id).summary(me);
      const [lastSeq, lastRead, lastMessage] = s.ok ? [s.lastSeq, s.lastReadSeq, s.lastMessage] : [0, 0, undefined];
      this.sql.exec(
        `INSERT INTO convs (conversation_id, view, last_seq, last_read_seq, last_message, activity_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (conversation_id) DO UPDATE SET view = excluded.view`,
        view.id, JSON.stringify(view), lastSeq, lastRead, lastMessage ? JSON.stringify(lastMessage) : null,
        lastMessage ? Date.parse(lastMessage.createdAt) : Date.parse(view.createdAt),
      );
    }
    this.pushToDevices({ type: 'conversation.updated', conversation: view });
    return { ok: true };
  }

  // ── device sockets ─────────────────────────────────────────────────────

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    const parsed = parseFrame(data);
    if (!parsed.ok) return sendFrame(ws, parsed.error);
    const frame = parsed.frame;
    const { deviceId } = ws.deserializeAttachment() as Attachment;
    switch (frame.type) {
      case 'ping':
        return sendFrame(ws, { type: 'pong' });
      case 'message.send': {
        const { type: _t, conversationId, msgType, ...rest } = frame;
        const result = await this.send(conversationId, { ...rest, type: msgType }, { deviceId });
        return sendFrame(ws, result.ok ? { type: 'message.ack', ...result.ack } : errorFrame(result.code, result.message, frame.clientMsgId));
      }
      case 'message.read': {
        const result = await this.env.CONVERSATIONS.getByName(frame.conversationId).markRead(this.userId(), frame.seq);
        if (!result.ok) sendFrame(ws, errorFrame(result.code, result.message));
        return;
      }
      case 'typing': {
        const result = await this.env.CONVERSATIONS.getByName(frame.conversationId).typing(this.userId());
        if (!result.ok) sendFrame(ws, errorFrame(result.code, result.message));
        return;
      }
      case 'sync':
        return this.sync(ws, frame);
    }
  }

  /**
   * Replays, per conversation, everything after the device's cursor (or the
   * user's read cursor for conversations it did not name), then the queued
   * notifications, then `sync.done`. Live frames arriving meanwhile are held
   * and sent after, minus what the replay already covered.
   */
  private async sync(ws: WebSocket, frame: Extract<ClientFrame, { type: 'sync' }>): Promise<void> {
    this.syncing.set(ws, []);
    const me = this.userId();
    const sent: Record<string, number> = {};
    try {
      const index = new Map(this.sql.exec<ConvRow>('SELECT * FROM convs').toArray().map((r) => [r.conversation_id, r]));
      const ids = new Set([...index.keys(), ...Object.keys(frame.cursors)]);
      for (const convId of ids) {
        const row = index.get(convId);
        let cursor = frame.cursors[convId] ?? row?.last_read_seq ?? 0;
        // The index says there is nothing newer: no need to ask.
        if (row && !(convId in frame.cursors) && row.last_seq <= cursor) {
          sent[convId] = cursor;
          continue;
        }
        const stub = this.env.CONVERSATIONS.getByName(convId);
        for (;;) {
          const page: HistoryResult = await stub.history(me, { afterSeq: cursor, limit: 100 });
          if (!page.ok) {
            sendFrame(ws, errorFrame(page.code, `${convId}: ${page.message}`));
            break;
          }
          for (const message of page.items) sendFrame(ws, { type: 'message.new', message });
          cursor = page.items.at(-1)?.seq ?? cursor;
          sent[convId] = cursor;
          if (page.items.length === 0 || cursor >= page.lastSeq) break;
        }
      }
      for (const { id, frame: pending } of this.sql.exec<{ id: number; frame: string }>('SELECT id, frame FROM pending_events ORDER BY id').toArray()) {
        sendFrame(ws, JSON.parse(pending) as ServerFrame);
        this.sql.exec('DELETE FROM pending_events WHERE id = ?', id);
      }
    } finally {
      const held = this.syncing.get(ws) ?? [];
      this.syncing.delete(ws);
      for (const f of held) {
        if (f.type === 'message.new' && f.message.seq <= (sent[f.message.conversationId] ?? 0)) continue;
        sendFrame(ws, f);
      }
    }
    sendFrame(ws, { type: 'sync.done', cursors: sent });
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    ws.close(code === 1005 ? 1000 : code, reason);
    await this.wentAway(ws);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.wentAway(ws);
  }

  private async wentAway(ws: WebSocket): Promise<void> {
    this.syncing.delete(ws);
    const others = this.ctx.getWebSockets().filter((s) => s !== ws && s.readyState === WebSocket.OPEN);
    if (others.length === 0) {
      await this.ctx.storage.deleteAlarm();
      await announcePresence(this.env, this.ctx, this.userId(), false);
    }
  }

  /** Heartbeat: keeps `online:<id>` alive in Redis while a device is connected. */
  override async alarm(): Promise<void> {
    if (this.ctx.getWebSockets().length === 0) return announcePresence(this.env, this.ctx, this.userId(), false);
    await redisClient(this.env)
      .set(`online:${this.userId()}`, 1, { ex: Math.ceil((HEARTBEAT_MS * 3) / 1000) })
      .catch((err: unknown) => console.log(JSON.stringify({ event: 'presence.heartbeat_failed', error: String(err) })));
    await this.ctx.storage.setAlarm(Date.now() + HEARTBEAT_MS);
  }

  // ── helpers ────────────────────────────────────────────────────────────

  private conv(id: string): ConvRow | undefined {
    return this.sql.exec<ConvRow>('SELECT * FROM convs WHERE conversation_id = ?', id).toArray()[0];
  }

  private pushToDevices(frame: ServerFrame, exceptDevice?: string): void {
    for (const ws of this.ctx.getWebSockets()) {
      if (exceptDevice && (ws.deserializeAttachment() as Attachment).deviceId === exceptDevice) continue;
      const held = this.syncing.get(ws);
      if (held) held.push(frame);
      else sendFrame(ws, frame);
    }
  }
}

