/**
 * UserDO — one per user (addressed by user id): the user's device sockets
 * and inbox.
 *
 * - Device sockets use the hibernation API; each carries {userId, sessionId,
 *   deviceId, synced} in its attachment and is tagged `sid:<sessionId>` and
 *   `dev:<deviceId>`, so revoking a session closes exactly its sockets. A
 *   socket gets nothing until its first `sync` has replayed (sync.ts).
 * - `deliver` comes from ConversationDOs (fan-out): it keeps the
 *   conversation index (inbox.ts) and pushes each entry to every device, in
 *   seq order with no gaps (a gap is filled from the ConversationDO first)
 *   and no duplicates. Calls for one conversation run one at a time.
 * - Sends pass the user's token bucket and go out batched (sends.ts).
 * - Presence: first device online / last device offline, renewed by the alarm.
 */
import { DurableObject } from 'cloudflare:workers';
import { writeLog } from '../../lib/log.ts';
import { metric } from '../../lib/metrics.ts';
import { seqOf } from '../../protocol/events.ts';
import { actionOf, type ServerFrame } from '../../protocol/frames.ts';
import { type SendInput, toSendInput } from '../../protocol/messages.ts';
import { membershipOf, type Membership } from '../../services/membership.ts';
import { redisClient } from '../../services/redis.ts';
import type { ConversationListItem, ConversationView, Counters, Delivery, Origin, SendResult, StreamResult, SummaryResult } from '../contracts.ts';
import { AlarmClock } from '../kit/alarms.ts';
import { migrateSql } from '../kit/migrations.ts';
import { instrument } from '../kit/sql-stats.ts';
import { withDb } from '../kit/postgres.ts';
import { SocketHub } from '../kit/socket-hub.ts';
import { errorFrame, parseFrame } from '../kit/sockets.ts';
import { TokenBucket } from '../kit/token-bucket.ts';
import { BotHook, type BotHookConfig } from './bot-hook.ts';
import { DeliveryLine } from './delivery.ts';
import { ConvIndex, emptyRow, listPage, rowFromCounters, withCounters } from './inbox.ts';
import { announcePresence, HEARTBEAT_MS } from './presence.ts';
import { queuePush, refreshPushDevices, sendDuePushes, wantsPush } from './push.ts';
import { MIGRATIONS } from './schema.ts';
import { SendQueue } from './sends.ts';
import { sync } from './sync.ts';

/** Notifications kept for a user with no device online (oldest dropped past this). */
const PENDING_MAX = 1000;
const CLOSE_RETRY_MS = 5_000;

interface Attachment {
  userId: string;
  sessionId: string;
  deviceId: string;
  synced?: boolean;
}

export class UserDO extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** The object's storage, its SQL statements counted (kit/sql-stats.ts). */
  private readonly storage: DurableObjectStorage;
  private readonly hub = new SocketHub({ quietUntilSync: true });
  private readonly alarms: AlarmClock;
  private readonly sends: SendQueue;
  /** A bot's webhookUrl: what its conversations deliver here is posted there too. */
  private readonly botHook: BotHook;
  /** Entries to the devices, in order, from the fan-out and from the answers to the user's own changes. */
  private readonly line: DeliveryLine;
  /** The conversation index (inbox.ts). */
  private readonly index: ConvIndex;
  private me = '';
  /** The devices with a push subscription (push_devices), read once. */
  private pushDevices: string[] | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.storage = instrument(ctx.storage, 'UserDO', env);
    this.sql = this.storage.sql;
    this.alarms = new AlarmClock(ctx.storage);
    this.botHook = new BotHook(ctx, env, this.alarms, () => this.userId());
    this.index = new ConvIndex(this.sql);
    this.line = new DeliveryLine({
      index: this.index,
      env,
      ctx,
      hub: this.hub,
      me: () => this.userId(),
      deviceOf: (ws) => (ws.deserializeAttachment() as Attachment).deviceId,
      newRow: (conversationId) => this.newRow(conversationId, null),
      delivered: (conversationId, fresh, row, departed) => {
        this.botHook.enqueue(conversationId, fresh);
        if (!departed) this.maybePush(conversationId, fresh, row.muted === 1);
      },
    });
    const bucket = new TokenBucket(Number(env.SEND_RATE_PER_SECOND), Number(env.SEND_BURST));
    this.sends = new SendQueue(bucket, (conversationId, inputs, origin) => this.env.CONVERSATIONS.getByName(conversationId).send(this.userId(), inputs, origin));
    // Heartbeats are answered by the runtime, without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
    ctx.blockConcurrencyWhile(async () => {
      migrateSql(this.storage, MIGRATIONS);
      this.me = this.sql.exec<{ user_id: string | null }>('SELECT user_id FROM state WHERE id = 1').one().user_id ?? '';
      await this.alarms.load();
    });
  }

  /** The user this object belongs to: its name, remembered once learned. */
  private userId(hint?: string): string {
    if (this.me) return this.me;
    const id = hint ?? this.ctx.id.name;
    if (!id) throw new Error('UserDO does not know its user yet');
    this.sql.exec('UPDATE state SET user_id = ? WHERE id = 1', id);
    return (this.me = id);
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
    metric(this.env, 'socket', { socket: 'device', event: 'open', held: this.ctx.getWebSockets().length });
    if (!wasOnline) {
      await announcePresence(this.env, this.ctx, userId, true);
      this.setHeartbeat(Date.now() + HEARTBEAT_MS);
    }
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  /** Closes every socket opened under `sessionId` — devices here, live views in their ConversationDOs. Idempotent. */
  async closeSession(sessionId: string): Promise<number> {
    const sockets = this.ctx.getWebSockets(`sid:${sessionId}`);
    for (const ws of sockets) ws.close(4001, 'session revoked');
    this.sql.exec('UPDATE live_views SET closing = 1 WHERE session_id = ?', sessionId);
    await this.closeLiveViews();
    return sockets.length;
  }

  /** The Worker opens a live view for `sessionId`: remembered, so revoking the session closes it. */
  async registerLiveView(sessionId: string, conversationId: string): Promise<{ ok: true }> {
    this.sql.exec('INSERT OR REPLACE INTO live_views (session_id, conversation_id, at, closing) VALUES (?, ?, ?, 0)', sessionId, conversationId, Date.now());
    return { ok: true };
  }

  private async closeLiveViews(): Promise<void> {
    const rows = this.sql.exec<{ session_id: string; conversation_id: string }>('SELECT session_id, conversation_id FROM live_views WHERE closing = 1').toArray();
    const results = await Promise.allSettled(rows.map((r) => this.env.CONVERSATIONS.getByName(r.conversation_id).closeSession(r.session_id)));
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') this.sql.exec('DELETE FROM live_views WHERE session_id = ? AND conversation_id = ?', rows[i]!.session_id, rows[i]!.conversation_id);
    });
    if (results.some((r) => r.status === 'rejected')) this.alarms.wakeBy(Date.now() + CLOSE_RETRY_MS);
  }

  /**
   * A send from REST or any socket: the per-user rate limit, then the conversation's single writer
   * (batched). The committed message comes back in the answer, and this object delivers it to the user's
   * other devices and index itself (`selfDelivered`): the fan-out does not call back here for it.
   */
  async send(conversationId: string, input: SendInput, origin: Origin): Promise<SendResult> {
    this.userId();
    const result = await this.sends.send(conversationId, input, { ...origin, selfDelivered: true });
    if (result.ok && !result.duplicate) void this.line.own(conversationId, { item: { message: result.message }, ...(origin.deviceId ? { origin: origin.deviceId } : {}) });
    return result;
  }

  /** Tokens of this user's send bucket for a live view, which then sends without asking each time. */
  async lease(n: number): Promise<number> {
    return this.sends.lease(Math.max(0, Math.min(n, 100)));
  }

  async listConversations(q: { limit: number; cursor?: string }): Promise<{ items: ConversationListItem[]; nextCursor: string | null }> {
    return listPage(this.sql, q);
  }

  /** Is the user in this conversation? The index answers; Postgres when the index does not know it. */
  async membership(conversationId: string): Promise<Membership> {
    if (this.index.get(conversationId)) return 'member';
    return withDb(this.env, this.ctx, (db) => membershipOf(db, conversationId, this.userId()));
  }

  /** The conversations the user is a member of now (whose index rows have their view): what search may look in. */
  async conversationIds(): Promise<string[]> {
    return this.sql.exec<{ conversation_id: string }>('SELECT conversation_id FROM convs WHERE view IS NOT NULL').toArray().map((r) => r.conversation_id);
  }

  async getMuted(conversationId: string): Promise<{ muted: boolean }> {
    return { muted: (this.index.get(conversationId)?.muted ?? 0) === 1 };
  }

  async setMuted(conversationId: string, muted: boolean): Promise<{ muted: boolean }> {
    return this.line.serial(conversationId, async () => {
      const row = this.index.get(conversationId) ?? (await this.newRow(conversationId, null));
      this.index.put({ ...row, muted: muted ? 1 : 0 });
      return { muted };
    });
  }

  // ── from ConversationDOs and other actors ──────────────────────────────

  /** Entries of a conversation for this user from its fan-out, ascending. Idempotent and gap-free (delivery.ts). */
  async deliver(conversationId: string, deliveries: Delivery[]): Promise<{ ok: true }> {
    if (deliveries.length) await this.line.deliver(conversationId, deliveries);
    return { ok: true };
  }

  /** Queues a push for the newest message that calls for one, if a subscribed device has no socket open. */
  private maybePush(conversationId: string, deliveries: Delivery[], muted: boolean): void {
    this.pushDevices ??= this.sql.exec<{ device_id: string }>('SELECT device_id FROM push_devices').toArray().map((r) => r.device_id);
    if (this.pushDevices.length === 0) return;
    const online = this.onlineDevices();
    if (this.pushDevices.every((d) => online.has(d))) return;
    const wanted = deliveries.filter((d) => 'message' in d.item && wantsPush(d.item.message, this.me, muted)).at(-1);
    if (wanted) this.alarms.wakeBy(queuePush(this.sql, conversationId, seqOf(wanted.item), Date.now()));
  }

  private onlineDevices(): Set<string> {
    return new Set(this.ctx.getWebSockets().map((ws) => (ws.deserializeAttachment() as Attachment).deviceId));
  }

  /** For a bot: where its conversations are delivered (the bot routes set it; null removes it). */
  async setBotHook(config: BotHookConfig | null): Promise<{ ok: true }> {
    this.userId();
    this.botHook.set(config);
    return { ok: true };
  }

  /** The user's push subscriptions changed: read them again from Postgres. */
  async pushDevicesChanged(): Promise<{ ok: true; devices: number }> {
    this.pushDevices = await refreshPushDevices(this.env, this.ctx, this.storage, this.userId());
    return { ok: true, devices: this.pushDevices.length };
  }

  /** The user's read cursor moved (ConversationDO.markRead): the counters it computed, and the receipt for the other devices. */
  async readMoved(conversationId: string, c: Counters): Promise<{ ok: true }> {
    return this.line.serial(conversationId, async () => {
      const row = this.index.get(conversationId);
      if (row) this.index.put(withCounters(row, c));
      this.pushAll({ type: 'receipt.read', conversationId, userId: this.userId(), seq: c.readSeq });
      return { ok: true as const };
    });
  }

  /** Ephemeral frames (receipts, typing, presence): pushed to synced devices, never queued. */
  async push(frame: ServerFrame): Promise<{ ok: true }> {
    this.pushAll(frame);
    return { ok: true };
  }

  /** Notifications (friend requests, …): pushed now to a synced device, or kept until a device syncs. */
  async notify(frame: ServerFrame): Promise<{ ok: true; queued: boolean }> {
    if (this.ctx.getWebSockets().some((ws) => (ws.deserializeAttachment() as Attachment).synced)) {
      this.pushAll(frame);
      return { ok: true, queued: false };
    }
    this.sql.exec('INSERT INTO pending_events (frame) VALUES (?)', JSON.stringify(frame));
    this.sql.exec('DELETE FROM pending_events WHERE id <= (SELECT max(id) FROM pending_events) - ?', PENDING_MAX);
    return { ok: true, queued: true };
  }

  /** A conversation's details changed (created, renamed, members added/removed). */
  async conversationUpdated(view: ConversationView): Promise<{ ok: true }> {
    return this.line.serial(view.id, async () => {
      const me = this.userId();
      const row = this.index.get(view.id);
      if (!view.members.some((m) => m.userId === me)) this.index.drop(view.id);
      else if (row) this.index.put({ ...row, view: JSON.stringify(view) });
      else await this.newRow(view.id, view);
      this.pushAll({ type: 'conversation.updated', conversation: view });
      return { ok: true as const };
    });
  }

  /** New to this user: start from where the conversation stands. */
  private async newRow(conversationId: string, view: ConversationView | null) {
    const s: SummaryResult = await this.env.CONVERSATIONS.getByName(conversationId).summary(this.userId());
    const row = s.ok ? rowFromCounters(conversationId, view, s) : { ...emptyRow(conversationId), view: view && JSON.stringify(view), activity_at: view ? Date.parse(view.createdAt) : 0 };
    this.index.put(row);
    return row;
  }

  // ── device sockets ─────────────────────────────────────────────────────

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    const answer = (frame: ServerFrame) => this.hub.answer(ws, frame);
    const parsed = parseFrame(data);
    if (!parsed.ok) return answer(parsed.error);
    const frame = parsed.frame;
    const { deviceId } = ws.deserializeAttachment() as Attachment;
    const me = this.userId();
    if ('conversationId' in frame && !this.index.get(frame.conversationId)) {
      // Not in the index: Postgres vouches for the id first, so a made-up one never creates a ConversationDO.
      const membership = await this.membership(frame.conversationId).catch(() => 'unavailable' as const);
      const ref = 'clientMsgId' in frame ? frame.clientMsgId : 'ref' in frame ? frame.ref : undefined;
      if (membership === 'not_found') return answer(errorFrame('not_found', 'No such conversation', ref));
      if (membership === 'unavailable') return answer(errorFrame('unavailable', 'Cannot check this conversation right now; retry', ref));
    }
    switch (frame.type) {
      case 'ping':
        return answer({ type: 'pong' });
      case 'message.send': {
        const { type: _t, conversationId, msgType, ...rest } = frame;
        const result = await this.send(conversationId, toSendInput({ ...rest, type: msgType }), { deviceId });
        return answer(result.ok ? { type: 'message.ack', ...result.ack } : errorFrame(result.code, result.message, frame.clientMsgId));
      }
      case 'message.edit':
      case 'message.recall':
      case 'reaction.add':
      case 'reaction.remove': {
        const result = await this.env.CONVERSATIONS.getByName(frame.conversationId).act(me, actionOf(frame), { deviceId, selfDelivered: true });
        if (!result.ok) return answer(errorFrame(result.code, result.message, frame.ref));
        const reply = { type: 'conversation.event', event: result.event, ...(frame.ref ? { ref: frame.ref } : {}) } as const;
        // A repeat made no new entry: its answer is the earlier event. A change goes out in its place in the stream.
        if (!result.changed) return answer(reply);
        return this.line.own(frame.conversationId, { item: { event: result.event }, origin: deviceId }, { ws, ...(frame.ref ? { ref: frame.ref } : {}) });
      }
      case 'message.read': {
        const result = await this.env.CONVERSATIONS.getByName(frame.conversationId).markRead(me, frame.seq);
        if (!result.ok) answer(errorFrame(result.code, result.message));
        return;
      }
      case 'typing': {
        const result = await this.env.CONVERSATIONS.getByName(frame.conversationId).typing(me);
        if (!result.ok) answer(errorFrame(result.code, result.message));
        return;
      }
      case 'sync':
        return sync({ sql: this.sql, env: this.env, ctx: this.ctx, hub: this.hub, me }, ws, frame);
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    ws.close(code === 1005 ? 1000 : code, reason);
    await this.wentAway(ws);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.wentAway(ws);
  }

  private async wentAway(ws: WebSocket): Promise<void> {
    this.hub.forget(ws);
    const others = this.ctx.getWebSockets().filter((s) => s !== ws && s.readyState === WebSocket.OPEN);
    metric(this.env, 'socket', { socket: 'device', event: 'close', held: others.length });
    if (others.length === 0) {
      this.setHeartbeat(null);
      await announcePresence(this.env, this.ctx, this.userId(), false);
    }
  }

  private setHeartbeat(at: number | null): void {
    this.sql.exec('UPDATE state SET heartbeat_at = ? WHERE id = 1', at);
    if (at !== null) this.alarms.wakeBy(at);
  }

  /** One alarm, four timers: due pushes, a bot's webhook retries, retries of live-view closes, the presence heartbeat while a device is connected. */
  override async alarm(): Promise<void> {
    this.alarms.fired();
    const nextPush = await sendDuePushes(this.env, this.sql, this.userId(), this.onlineDevices());
    if (nextPush !== null) this.alarms.wakeBy(nextPush);
    this.botHook.wake();
    if (this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM live_views WHERE closing = 1').one().n > 0) await this.closeLiveViews();
    const heartbeatAt = this.sql.exec<{ heartbeat_at: number | null }>('SELECT heartbeat_at FROM state WHERE id = 1').one().heartbeat_at;
    if (heartbeatAt === null) return;
    if (heartbeatAt > Date.now()) return this.alarms.wakeBy(heartbeatAt);
    // Sockets that vanished without a close (a restart) end presence here, at the latest.
    if (this.ctx.getWebSockets().length === 0) {
      this.setHeartbeat(null);
      return announcePresence(this.env, this.ctx, this.userId(), false);
    }
    await redisClient(this.env)
      .set(`online:${this.userId()}`, 1, { ex: Math.ceil((HEARTBEAT_MS * 3) / 1000) })
      .catch((err: unknown) => writeLog('warn', 'presence.heartbeat_failed', { error: String(err) }));
    this.setHeartbeat(Date.now() + HEARTBEAT_MS);
  }

  private pushAll(frame: ServerFrame): void {
    const text = JSON.stringify(frame);
    for (const ws of this.ctx.getWebSockets()) this.hub.send(ws, text);
  }
}
