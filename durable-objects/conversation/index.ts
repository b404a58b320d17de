/**
 * ConversationDO — one per conversation (addressed by its id): the single
 * writer of the conversation's stream.
 *
 * A change walks: the RPC method (send, act, setMirror, or the alarm's
 * expiries) → its I/O first (a forward's source, a file, an old message
 * loaded back) → the rules (commands.ts) → `append` (event-log.ts: the next
 * seq and the projections, one synchronous transaction) → `committed`: the
 * live-view sockets at once, then the outbox consumers (fan-out to members'
 * UserDOs now, Postgres half a second later, …), retried by the one alarm. The
 * answer leaves after the commit (the output gate holds it until the write
 * is durable).
 */
import { DurableObject } from 'cloudflare:workers';
import { writeLog } from '../../lib/log.ts';
import type { MessageAction } from '../../protocol/events.ts';
import type { ServerFrame } from '../../protocol/frames.ts';
import type { SendInput } from '../../protocol/messages.ts';
import type {
  ConversationMirror, EventResult, Failure, ForwardSource, HistoryQuery, HistoryResult, HookEvent, Origin, ReadResult, ReceiptsResult,
  SendResult, StreamResult, SummaryResult, WebhookCreated, WebhookDeliveries, WebhookList, WebhookSecret,
} from '../contracts.ts';
import { AlarmClock } from '../kit/alarms.ts';
import { migrateSql } from '../kit/migrations.ts';
import { instrument } from '../kit/sql-stats.ts';
import { SocketHub } from '../kit/socket-hub.ts';
import { act } from './actions.ts';
import { forwardable, notMember } from './commands.ts';
import { append, type Change } from './event-log.ts';
import { fanoutConsumer } from './fanout.ts';
import { filesConsumer } from './files.ts';
import { searchConsumer, searchState } from './search.ts';
import { PG_CONSUMER, pgConsumer } from './flush.ts';
import { counters, loadMessage, messagePage, msgNoFor, receipts, streamPage, visibleFrom } from './history.ts';
import { acceptLiveView, closeLiveViews, handleLiveFrame, type LiveView } from './live-view.ts';
import { BlockMirror, diff, found, recordVersion } from './members.ts';
import { Outbox, prune } from './outbox.ts';
import { MIGRATIONS } from './schema.ts';
import { sendBatch } from './sending.ts';
import { ConversationState, type Deps, type Entry } from './state.ts';
import { Webhooks } from './webhooks.ts';

/** Groups larger than this get no typing and no per-member read receipts. */
const CHATTY_LIMIT = 100;
const EXPIRE_BATCH = 200;

export class ConversationDO extends DurableObject<Env> implements LiveView {
  st!: ConversationState;
  d!: Deps;
  private outbox!: Outbox;
  private webhooks!: Webhooks;
  private readonly alarms: AlarmClock;
  /** The object's storage, its SQL statements counted (kit/sql-stats.ts). */
  private readonly storage: DurableObjectStorage;
  private readonly blockMirror = new BlockMirror();
  readonly hub = new SocketHub({ quietUntilSync: false });

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.storage = instrument(ctx.storage, 'ConversationDO', env);
    this.alarms = new AlarmClock(ctx.storage);
    ctx.blockConcurrencyWhile(async () => {
      migrateSql(this.storage, MIGRATIONS);
      this.st = new ConversationState(this.storage.sql);
      this.d = { st: this.st, storage: this.storage, env, ctx };
      this.outbox = new Outbox(this.d, this.alarms, [fanoutConsumer(), pgConsumer(), filesConsumer(), searchConsumer()]);
      this.outbox.onAdvance = (name) => this.advanced(name);
      this.webhooks = new Webhooks(this.d, this.outbox);
      this.webhooks.start();
      await this.alarms.load();
    });
  }

  async ping(): Promise<{ ok: true; kind: 'conversation' }> {
    return { ok: true, kind: 'conversation' };
  }

  // ── membership and settings, mirrored from Postgres ─────────────────────

  /** Applies a mirror (idempotent; older versions are ignored) and appends the events of what changed. */
  async setMirror(mirror: ConversationMirror): Promise<{ ok: true; applied: boolean }> {
    if (!this.st.exists) {
      found(this.st, this.storage.sql, this.storage, mirror);
      await this.blockMirror.refresh(this.st, this.storage, this.env, this.ctx).catch((err) => this.log('blocks.refresh_failed', { error: String(err) }));
      return { ok: true, applied: true };
    }
    if (mirror.version < this.st.conv.version) return { ok: true, applied: false };
    const changes = diff(this.st, mirror);
    const entries = changes.length ? append(this.st, this.storage, changes) : [];
    recordVersion(this.st, this.storage.sql, mirror.version);
    const departed = changes.flatMap((c) => ('event' in c && (c.event.kind === 'member.left' || c.event.kind === 'member.removed') ? [c.event.userId] : []));
    for (const userId of departed) closeLiveViews(this.ctx, `user:${userId}`, 4003, 'no longer a member');
    this.committed(entries);
    if (changes.some((c) => 'event' in c && c.event.kind === 'member.joined')) this.ctx.waitUntil(this.refreshBlocks());
    return { ok: true, applied: true };
  }

  /** A block between members changed: read them again from Postgres (the record). */
  async refreshBlocks(): Promise<{ ok: true }> {
    await this.blockMirror.refresh(this.st, this.storage, this.env, this.ctx);
    return { ok: true };
  }

  // ── sends and changes to messages (sending.ts, actions.ts) ───────────────

  /**
   * Sends from one member, in order. A batch (what a UserDO gathered while its previous call was in flight)
   * is one commit and one fan-out. A repeated clientMsgId answers with the original.
   */
  async send(senderId: string, inputs: SendInput[], origin: Origin = {}): Promise<SendResult[]> {
    return sendBatch(this.d, this.commit, (conversationId, seq) => this.sourceOf(senderId, conversationId, seq), senderId, inputs, origin);
  }

  /** Edit, recall, react: the rules, then one event. A repeat returns the event that made the current state. */
  async act(actorId: string, action: MessageAction, origin: Origin = {}): Promise<EventResult> {
    return act(this.d, this.commit, actorId, action, origin);
  }

  /**
   * A forward's source: here, or in a conversation the sender's index (else Postgres) vouches for, so a
   * made-up id never creates a ConversationDO.
   */
  private async sourceOf(senderId: string, conversationId: string, seq: number): Promise<ForwardSource> {
    if (conversationId === this.st.conv.id) return this.forwardSource(senderId, seq);
    const membership = await this.env.USERS.getByName(senderId).membership(conversationId);
    if (membership === 'member') return this.env.CONVERSATIONS.getByName(conversationId).forwardSource(senderId, seq);
    return membership === 'not_found' ? { ok: false, code: 'not_found', message: 'No such conversation to forward from' } : { ok: false, code: 'not_member', message: 'You are not a member of the conversation you forward from' };
  }

  /** For a forward into another conversation: the message, if `userId` may see it and it is not gone. */
  async forwardSource(userId: string, seq: number): Promise<ForwardSource> {
    const message = await loadMessage(this.d, seq).catch(() => undefined);
    const found = forwardable(this.st, userId, message);
    return 'ok' in found ? found : { ok: true, message: found };
  }

  // ── after the commit ───────────────────────────────────────────────────

  /** Live views at once, in seq order; then the outbox consumers; expiries on the alarm. */
  private readonly commit = (entries: Entry[]): void => this.committed(entries);

  private committed(entries: Entry[]): void {
    if (entries.length === 0) return;
    this.broadcastEntries(entries);
    this.outbox.appended();
    for (const e of entries) {
      const expiresAt = 'message' in e.item ? e.item.message.expiresAt : undefined;
      if (expiresAt) this.alarms.wakeBy(Date.parse(expiresAt));
    }
  }

  private broadcastEntries(entries: Entry[]): void {
    const sockets = this.ctx.getWebSockets();
    if (sockets.length === 0) return;
    for (const e of entries) {
      const frame: ServerFrame = 'message' in e.item ? { type: 'message.new', message: e.item.message } : { type: 'conversation.event', event: e.item.event };
      const text = JSON.stringify(frame);
      const at = { conversationId: this.st.conv.id!, seq: e.seq };
      for (const ws of sockets) {
        const { userId, socketId } = ws.deserializeAttachment() as { userId: string; socketId: string };
        const m = this.st.members.get(userId);
        if (!m || m.joinedSeq > e.seq || (m.leftSeq !== null && m.leftSeq < e.seq)) continue;
        if (e.origin === `#${socketId}`) continue; // it gets its answer instead
        this.hub.send(ws, text, at);
      }
    }
  }

  /** Ephemeral frames (receipts, typing) to members' devices and live views, never between a blocked pair. */
  private pushEphemeral(frame: ServerFrame & { userId: string }, toSelf: boolean): void {
    const from = frame.userId;
    const audience = this.st.memberIds().filter((id) => (toSelf || id !== from) && !this.st.blockedBetween(id, from));
    const text = JSON.stringify(frame);
    for (const ws of this.ctx.getWebSockets()) {
      const { userId } = ws.deserializeAttachment() as { userId: string };
      if (audience.includes(userId)) this.hub.send(ws, text);
    }
    this.ctx.waitUntil(Promise.allSettled(audience.filter((id) => id !== from).map((id) => this.env.USERS.getByName(id).push(frame))));
  }

  private advanced(name: string): void {
    // The hot window is bounded by every consumer: any of them moving may let it shrink.
    prune(this.d, this.outbox, Number(this.env.HOT_WINDOW_MESSAGES), PG_CONSUMER);
    // What now is in Postgres may let file references go.
    if (name === PG_CONSUMER) this.outbox.kick(this.outbox.consumers.find((c) => c.name === 'files')!);
    if (name === 'fanout' && this.st.departed.size) {
      // Departed members have now heard of their departure: their rows can go.
      const done = this.outbox.done('fanout');
      for (const id of [...this.st.departed]) {
        const m = this.st.members.get(id)!;
        if (m.leftSeq !== null && m.leftSeq <= done) {
          this.storage.sql.exec('DELETE FROM members WHERE user_id = ? AND left_seq IS NOT NULL', m.userId);
          this.st.dropMember(m.userId);
        }
      }
    }
  }

  // ── read cursors, typing ───────────────────────────────────────────────

  /** Moves `userId`'s read cursor forward (never back), tells the members and the reader's UserDO its counters. */
  async markRead(userId: string, seq: number): Promise<ReadResult> {
    const before = this.st.member(userId);
    if (!before) return notMember(this.st);
    const target = Math.min(seq, this.st.conv.lastSeq);
    if (target <= before.readSeq) return { ok: true, seq: before.readSeq };
    const msgNo = await msgNoFor(this.d, target).catch(() => undefined);
    if (msgNo === undefined) return { ok: false, code: 'unavailable', message: 'Could not move the read cursor right now; retry' };
    const m = this.st.member(userId);
    if (!m) return notMember(this.st);
    if (target <= m.readSeq) return { ok: true, seq: m.readSeq };
    const moved = { ...m, readSeq: target, readMsgNo: Math.max(m.readMsgNo, msgNo) };
    this.storage.sql.exec('UPDATE members SET read_seq = ?, read_msg_no = ? WHERE user_id = ?', moved.readSeq, moved.readMsgNo, userId);
    this.st.setMember(moved);
    const conversationId = this.st.conv.id!;
    if (this.st.memberIds().length <= CHATTY_LIMIT) this.pushEphemeral({ type: 'receipt.read', conversationId, userId, seq: target }, false);
    this.ctx.waitUntil(this.env.USERS.getByName(userId).readMoved(conversationId, counters(this.d, moved)).catch(() => {}));
    return { ok: true, seq: target };
  }

  /** Typing is ephemeral: pushed to the other members' online devices, never stored. */
  async typing(userId: string): Promise<{ ok: true } | Failure> {
    if (!this.st.member(userId)) return notMember(this.st);
    if (this.st.conv.kind === 'single' && this.st.inAnyBlock(userId)) return { ok: false, code: 'blocked', message: 'Typing between you and this user is blocked' };
    if (this.st.memberIds().length <= CHATTY_LIMIT) this.pushEphemeral({ type: 'typing', conversationId: this.st.conv.id!, userId }, false);
    return { ok: true };
  }

  // ── reads ──────────────────────────────────────────────────────────────

  private async read<T>(userId: string, run: (m: NonNullable<ReturnType<ConversationState['member']>>) => Promise<T> | T): Promise<T | Failure> {
    const m = this.st.member(userId);
    if (!m) return notMember(this.st);
    try {
      return await run(m);
    } catch (err) {
      this.log('read.failed', { error: String(err) });
      return { ok: false, code: 'unavailable', message: 'History is unavailable right now; retry' };
    }
  }

  async history(userId: string, q: HistoryQuery): Promise<HistoryResult> {
    return this.read(userId, async (m) => ({ ok: true as const, items: await messagePage(this.d, m, q), lastSeq: this.st.conv.lastSeq }));
  }

  /** Messages and events after `afterSeq`, in seq order: one cursor syncs everything. */
  async events(userId: string, afterSeq: number, limit: number): Promise<StreamResult> {
    return this.read(userId, async (m) => ({ ok: true as const, items: await streamPage(this.d, m, afterSeq, limit), lastSeq: this.st.conv.lastSeq }));
  }

  async summary(userId: string): Promise<SummaryResult> {
    return this.read(userId, (m) => ({ ok: true as const, ...counters(this.d, m) }));
  }

  async receipts(userId: string, seq: number): Promise<ReceiptsResult> {
    return this.read(userId, async (m) => {
      const message = seq >= visibleFrom(m) ? await loadMessage(this.d, seq) : undefined;
      if (!message) return { ok: false as const, code: 'not_found', message: 'No message at that seq' };
      const { readBy, memberCount } = receipts(this.d, message);
      return { ok: true as const, seq, readCount: readBy.length, memberCount, readBy };
    });
  }

  /** Messages at `seqs` in their current state, those `userId` may see (search hits to show). */
  async messagesAt(userId: string, seqs: number[]): Promise<HistoryResult> {
    return this.read(userId, async (m) => {
      const items = [];
      for (const seq of seqs.slice(0, 100)) {
        const message = seq >= visibleFrom(m) ? await loadMessage(this.d, seq) : undefined;
        if (message) items.push(message);
      }
      return { ok: true as const, items, lastSeq: this.st.conv.lastSeq };
    });
  }

  /** For the search job: what the index should hold for these messages now. */
  async searchState(seqs: number[]): Promise<ReturnType<typeof searchState>> {
    return searchState(this.d, seqs.slice(0, 500));
  }

  // ── outgoing webhooks (webhooks.ts) ────────────────────────────────────

  async addWebhook(actorId: string, input: { url: string; events: HookEvent[] }): Promise<WebhookCreated> {
    return this.webhooks.add(actorId, input);
  }

  async listWebhooks(actorId: string): Promise<WebhookList> {
    return this.webhooks.list(actorId);
  }

  async deleteWebhook(actorId: string, id: string): Promise<{ ok: true } | Failure> {
    return this.webhooks.remove(actorId, id);
  }

  async rotateWebhookSecret(actorId: string, id: string): Promise<WebhookSecret> {
    return this.webhooks.rotate(actorId, id);
  }

  async webhookDeliveries(actorId: string, id: string, q: { limit: number; beforeSeq?: number }): Promise<WebhookDeliveries> {
    return this.webhooks.deliveries(actorId, id, q);
  }

  // ── sessions, operations ───────────────────────────────────────────────

  /** Closes the live views a revoked session opened. Idempotent. */
  async closeSession(sessionId: string): Promise<number> {
    return closeLiveViews(this.ctx, `sid:${sessionId}`, 4001, 'session revoked');
  }

  /** Test and operations hook: where the stream and its consumers stand. */
  async outboxStatus(): Promise<{ lastSeq: number; hotFrom: number; consumers: ReturnType<Outbox['status']>; quarantined: number }> {
    const quarantined = this.storage.sql.exec<{ n: number }>('SELECT count(*) AS n FROM quarantine').one().n;
    return { lastSeq: this.st.conv.lastSeq, hotFrom: this.st.conv.hotFrom, consumers: this.outbox.status(), quarantined };
  }

  // ── the alarm: outbox consumers, expiries ──────────────────────────────

  override async alarm(): Promise<void> {
    this.alarms.fired();
    const now = Date.now();
    this.expireDue(now);
    await this.outbox.runDue(now);
    this.outbox.checkpoint();
    const nextExpiry = this.storage.sql.exec<{ t: number | null }>('SELECT min(expires_at) AS t FROM messages WHERE expires_at IS NOT NULL AND gone IS NULL').one().t;
    const next = [this.outbox.nextWake(), nextExpiry].filter((t): t is number => t !== null);
    if (next.length) this.alarms.wakeBy(Math.max(Date.now() + 10, Math.min(...next)));
  }

  /** Disappearing messages whose time has come become `message.expired` events, through the one append. */
  private expireDue(now: number): void {
    const due = this.storage.sql
      .exec<{ seq: number; sender_id: string }>('SELECT seq, sender_id FROM messages WHERE expires_at <= ? AND gone IS NULL ORDER BY expires_at LIMIT ?', now, EXPIRE_BATCH)
      .toArray();
    if (due.length === 0) return;
    const changes: Change[] = due.map((r) => ({ event: { kind: 'message.expired', actorId: r.sender_id, targetSeq: r.seq } }));
    this.committed(append(this.st, this.storage, changes, now));
  }

  // ── live-view sockets ──────────────────────────────────────────────────

  lease(userId: string, n: number): Promise<number> {
    return this.env.USERS.getByName(userId).lease(n);
  }

  /** Only the WebSocket upgrade comes here; the Worker authenticated the user and set the x-beehive-* headers. */
  override async fetch(request: Request): Promise<Response> {
    return acceptLiveView(this, this.ctx, request);
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    await handleLiveFrame(this, ws, data);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    this.hub.forget(ws);
    ws.close(code === 1005 ? 1000 : code, reason);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.hub.forget(ws);
  }

  log(event: string, fields: Record<string, unknown> = {}): void {
    writeLog('warn', event, { conversationId: this.st?.conv.id, ...fields });
  }
}
