/**
 * How a user's conversations reach their devices, in order: each entry
 * once, no gaps. Entries come from two places:
 *
 * - the fan-out of a ConversationDO (`deliver`): everything but the user's
 *   own changes made through this object;
 * - the answer to the user's own change (`own`): this object sends the
 *   message (or action) and gets the entry back, so it takes it from there
 *   and the fan-out need not call it — one RPC fewer per message.
 *
 * The two can arrive in either order, so entries wait in `pending` until
 * everything before them is here, then go out as one contiguous run: one
 * write of the conversation's index row, then the frames. A hole that is not
 * filled soon (an entry lost with an evicted object, a large group's QStash
 * batches arriving out of order) is fetched from the ConversationDO.
 * Calls for one conversation run one at a time (`serial`).
 */
import { writeLog } from '../../lib/log.ts';
import { metric } from '../../lib/metrics.ts';
import { seqOf } from '../../protocol/events.ts';
import type { ServerFrame } from '../../protocol/frames.ts';
import type { Delivery, StreamResult, SummaryResult } from '../contracts.ts';
import type { SocketHub } from '../kit/socket-hub.ts';
import { applyDeliveries, type ConvIndex, emptyRow, withCounters } from './inbox.ts';
import type { ConvRow } from './schema.ts';

/** How long a hole may wait for the entry that fills it before it is fetched. */
const HOLE_WAIT_MS = 500;

/** An action's answer goes to the socket that asked, with its ref, in its place in the stream. */
export interface Answer {
  ws: WebSocket;
  ref?: string;
}

interface Waiting {
  delivery: Delivery;
  /** From the answer to the user's own change, not from the fan-out. */
  own?: true;
  answer?: Answer;
}

export interface DeliveryHost {
  readonly index: ConvIndex;
  readonly env: Env;
  readonly ctx: DurableObjectState;
  readonly hub: SocketHub;
  me(): string;
  deviceOf(ws: WebSocket): string;
  /** A row for a conversation new to the index, from the ConversationDO's counters. */
  newRow(conversationId: string): Promise<ConvRow>;
  /** After a run went out: push notifications, the bot's webhook. */
  delivered(conversationId: string, fresh: Delivery[], row: ConvRow, departed: boolean): void;
}

export class DeliveryLine {
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly pending = new Map<string, Map<number, Waiting>>();
  private readonly holes = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly host: DeliveryHost;

  constructor(host: DeliveryHost) {
    this.host = host;
  }

  /** Runs `run` after every earlier call for the conversation. */
  serial<T>(conversationId: string, run: () => Promise<T>): Promise<T> {
    const next = (this.chains.get(conversationId) ?? Promise.resolve()).then(run, run);
    const tail = next.catch(() => {});
    this.chains.set(conversationId, tail);
    void tail.then(() => this.chains.get(conversationId) === tail && this.chains.delete(conversationId));
    return next;
  }

  /** Entries from the fan-out (ascending). Idempotent: `seq` is the version. */
  deliver(conversationId: string, deliveries: Delivery[]): Promise<void> {
    return this.serial(conversationId, async () => this.take(conversationId, deliveries.map((delivery) => ({ delivery }))));
  }

  /** The entry of the user's own change, from its answer; `answer` gets it with the frame's ref. */
  own(conversationId: string, delivery: Delivery, answer?: Answer): Promise<void> {
    return this.serial(conversationId, async () => this.take(conversationId, [{ delivery, own: true, ...(answer ? { answer } : {}) }]));
  }

  private take(conversationId: string, incoming: Waiting[]): void {
    const row = this.host.index.get(conversationId);
    const waiting = this.pending.get(conversationId) ?? new Map<number, Waiting>();
    for (const w of incoming) {
      const seq = seqOf(w.delivery.item);
      if (!row || seq > row.last_seq) waiting.set(seq, { ...waiting.get(seq), ...w });
    }
    // What is contiguous from the row's last seq goes now. For a conversation new to the index the fan-out's
    // first entry starts it (the user's member.joined, the first message); an own entry alone waits for it.
    const seqs = [...waiting.keys()].sort((a, b) => a - b);
    let next = row ? row.last_seq + 1 : (seqs.find((s) => !waiting.get(s)!.own || s === 1) ?? Infinity);
    const run: Waiting[] = [];
    for (const seq of seqs) {
      if (seq < next) continue;
      if (seq !== next) break;
      run.push(waiting.get(seq)!);
      waiting.delete(seq);
      next++;
    }
    if (waiting.size) {
      this.pending.set(conversationId, waiting);
      this.fillSoon(conversationId);
    } else {
      this.pending.delete(conversationId);
    }
    if (run.length) this.apply(conversationId, row, run);
  }

  /** Applies a contiguous run: one index write, then the frames. */
  private apply(conversationId: string, row: ConvRow | undefined, run: Waiting[], counted?: SummaryResult): void {
    const before = row ?? emptyRow(conversationId);
    const applied = applyDeliveries(before, run.map((w) => w.delivery), this.host.me());
    const after = counted?.ok ? withCounters(applied.row, counted) : applied.row;
    if (applied.departed) this.host.index.drop(conversationId);
    else this.host.index.put(after);
    const devices = this.push(conversationId, run);
    const last = run.at(-1)!.delivery.item;
    metric(this.host.env, 'delivery', { path: 'rpc', devices, ms: Date.now() - Date.parse('message' in last ? last.message.createdAt : last.event.createdAt) });
    this.host.delivered(conversationId, run.map((w) => w.delivery), after, applied.departed);
  }

  /** A hole that stays: fetch what is missing from the ConversationDO, then let the waiting ones go. */
  private fillSoon(conversationId: string): void {
    if (this.holes.has(conversationId)) return;
    this.holes.set(conversationId, setTimeout(() => {
      this.holes.delete(conversationId);
      void this.serial(conversationId, () => this.fill(conversationId)).catch((err: unknown) =>
        writeLog('warn', 'delivery.fill_failed', { conversationId, error: String(err) }),
      );
    }, HOLE_WAIT_MS));
  }

  private async fill(conversationId: string): Promise<void> {
    const waiting = this.pending.get(conversationId);
    if (!waiting?.size) return;
    const row = this.host.index.get(conversationId) ?? (await this.host.newRow(conversationId));
    const first = Math.min(...waiting.keys());
    const stub = this.host.env.CONVERSATIONS.getByName(conversationId);
    const me = this.host.me();
    const missing: Waiting[] = [];
    for (let after = row.last_seq; after < first - 1; ) {
      const page: StreamResult = await stub.events(me, after, 100);
      if (!page.ok || page.items.length === 0) break;
      for (const item of page.items) if (seqOf(item) < first) missing.push({ delivery: { item } });
      after = seqOf(page.items.at(-1)!);
    }
    // Fetched entries carry no counting hints: the ConversationDO's own count replaces ours.
    const counted: SummaryResult = await stub.summary(me).catch(() => ({ ok: false as const, code: 'unavailable', message: '' }));
    const current = this.host.index.get(conversationId);
    const all = new Map<number, Waiting>();
    for (const w of [...missing, ...(this.pending.get(conversationId)?.values() ?? [])]) {
      const seq = seqOf(w.delivery.item);
      if (!current || seq > current.last_seq) all.set(seq, all.get(seq) ?? w);
    }
    this.pending.delete(conversationId);
    const run = [...all.keys()].sort((a, b) => a - b).map((s) => all.get(s)!);
    if (run.length) this.apply(conversationId, current, run, counted);
  }

  /** Each entry to every synced device, except the one that made it (it had its answer), in seq order; returns the sockets. */
  private push(conversationId: string, run: Waiting[]): number {
    const me = this.host.me();
    const sockets = this.host.ctx.getWebSockets().map((ws) => ({ ws, deviceId: this.host.deviceOf(ws) }));
    for (const { delivery: d, answer } of run) {
      const seq = seqOf(d.item);
      const frame: ServerFrame = 'message' in d.item ? { type: 'message.new', message: d.item.message } : { type: 'conversation.event', event: d.item.event };
      const mine = 'message' in d.item ? d.item.message.senderId === me : d.item.event.actorId === me;
      const text = JSON.stringify(frame);
      for (const { ws, deviceId } of sockets) {
        if (answer?.ws === ws && 'event' in d.item) {
          this.host.hub.sendFrame(ws, { ...frame, ...(answer.ref ? { ref: answer.ref } : {}) } as ServerFrame, { conversationId, seq });
        } else if (!(mine && d.origin === deviceId)) {
          this.host.hub.send(ws, text, { conversationId, seq });
        }
      }
    }
    return sockets.length;
  }
}
