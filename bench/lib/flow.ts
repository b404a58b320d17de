/**
 * The measuring core, shared by every messaging scenario and by both targets
 * (Beehive and the relay ceiling).
 *
 * A Flow sends `message.send` frames into rooms (one sender socket, N
 * recipient sockets, one conversation) and times, per message:
 *   - ack latency: from just before the sender's `send()` to its `message.ack`;
 *   - delivery latency: from the same instant to each recipient's
 *     `message.new` (one sample per recipient), plus the first and the last
 *     recipient of the message.
 * A message is complete once it is acked and every recipient has it.
 *
 * Correctness, per recipient per conversation, by `seq`: a seq seen twice is
 * a duplicate; a seq lower than one already seen is out of order; at the end
 * every seq the sender got acked (or any recipient saw) that a recipient
 * lacks is lost. Frames of messages this flow did not send are ignored.
 */
import { Latency } from './histogram.ts';
import type { BenchSocket, Frame } from './socket.ts';
import { now, waitUntil } from './timing.ts';

export interface Room {
  conversationId: string;
  sender: BenchSocket;
  recipients: BenchSocket[];
}

interface Pending {
  t0: number;
  room: Room;
  acked: boolean;
  remaining: number;
  first?: number;
  last?: number;
  settled: boolean;
  resolve: (ok: boolean) => void;
}

interface Cursor {
  last: number;
  seen: Set<number>;
}

export interface Correctness {
  lost: number;
  duplicated: number;
  outOfOrder: number;
  /** Sends that got neither an ack nor an error frame in time. */
  unacked: number;
  /** Error frames answering our sends, by code. */
  errors: Record<string, number>;
}

export class Flow {
  readonly ack = new Latency();
  readonly delivery = new Latency();
  readonly first = new Latency();
  readonly last = new Latency();
  /** Off during warm-up: counts and correctness still apply, latencies are not recorded. */
  recording = true;
  sent = 0;
  acked = 0;
  /** Per-recipient deliveries. */
  delivered = 0;
  completed = 0;
  /** The highest seq acked so far. */
  lastAckedSeq = 0;
  timedOut = 0;
  duplicated = 0;
  outOfOrder = 0;
  errors: Record<string, number> = {};
  private errored = 0;
  /** Messages not yet complete (and those that timed out, so their late frames are still timed). */
  private readonly pending = new Map<string, Pending>();
  private unsettled = 0;
  private readonly ackedSeqs = new Map<string, Set<number>>();
  private readonly cursors = new Map<BenchSocket, Map<string, Cursor>>();
  private readonly rooms: Room[] = [];
  private n = 0;
  private readonly sweeper: NodeJS.Timeout;
  private readonly prefix: string;
  private readonly timeoutMs: number;

  /** `timeoutMs`: a message not complete by then counts as timed out (its late frames are still checked). */
  constructor(tag: string, timeoutMs = 30_000) {
    this.prefix = `${tag}-`;
    this.timeoutMs = timeoutMs;
    this.sweeper = setInterval(() => this.sweep(), 250);
  }

  add(room: Room): void {
    this.rooms.push(room);
    this.ackedSeqs.set(room.conversationId, new Set());
    for (const s of [room.sender, ...room.recipients]) {
      if (!this.cursors.has(s)) this.cursors.set(s, new Map());
      s.onFrame = (f, at) => this.onFrame(s, f, at);
    }
    for (const r of room.recipients) this.cursors.get(r)!.set(room.conversationId, { last: 0, seen: new Set() });
  }

  get inFlight(): number {
    return this.unsettled;
  }

  /** Sends one message; resolves true once it is acked and delivered to every recipient, false on error or timeout. */
  send(room: Room): Promise<boolean> {
    const clientMsgId = `${this.prefix}${++this.n}`;
    return new Promise((resolve) => {
      const p: Pending = { t0: 0, room, acked: false, remaining: room.recipients.length, settled: false, resolve };
      this.pending.set(clientMsgId, p);
      this.sent++;
      this.unsettled++;
      p.t0 = now();
      room.sender.send({ type: 'message.send', conversationId: room.conversationId, clientMsgId, msgType: 'text', content: `bench message ${clientMsgId}` });
    });
  }

  private onFrame(socket: BenchSocket, f: Frame, at: number): void {
    if (f.type === 'message.new') return this.onDelivery(socket, f.message, at);
    if (f.type === 'message.ack') return this.onAck(f, at);
    if (f.type === 'error' && typeof f.ref === 'string') {
      const p = this.pending.get(f.ref);
      if (!p) return;
      this.errors[f.code] = (this.errors[f.code] ?? 0) + 1;
      this.errored++;
      this.settle(p, false);
      this.pending.delete(f.ref);
    }
  }

  private onAck(f: Frame, at: number): void {
    const p = this.pending.get(f.clientMsgId);
    if (!p || p.acked) return;
    p.acked = true;
    this.acked++;
    this.ackedSeqs.get(f.conversationId)?.add(f.seq);
    this.lastAckedSeq = Math.max(this.lastAckedSeq, f.seq);
    if (this.recording) this.ack.record(at - p.t0);
    if (p.remaining === 0) this.complete(f.clientMsgId, p);
  }

  private onDelivery(socket: BenchSocket, m: { conversationId: string; seq: number; clientMsgId: string }, at: number): void {
    const cursor = this.cursors.get(socket)?.get(m.conversationId);
    if (!cursor || !m.clientMsgId?.startsWith(this.prefix)) return; // not ours (an earlier flow's straggler)
    if (cursor.seen.has(m.seq)) {
      this.duplicated++;
      return;
    }
    if (m.seq < cursor.last) this.outOfOrder++;
    cursor.seen.add(m.seq);
    cursor.last = Math.max(cursor.last, m.seq);
    this.delivered++;
    const p = this.pending.get(m.clientMsgId);
    if (!p) return;
    const ms = at - p.t0;
    if (this.recording) this.delivery.record(ms);
    p.first ??= ms;
    p.last = ms;
    p.remaining--;
    if (p.remaining === 0 && p.acked) this.complete(m.clientMsgId, p);
  }

  private complete(clientMsgId: string, p: Pending): void {
    this.pending.delete(clientMsgId);
    if (p.settled) return; // it had timed out: late, but complete now
    this.completed++;
    if (this.recording && p.first !== undefined) {
      this.first.record(p.first);
      this.last.record(p.last!);
    }
    this.settle(p, true);
  }

  private settle(p: Pending, ok: boolean): void {
    if (p.settled) return;
    p.settled = true;
    this.unsettled--;
    p.resolve(ok);
  }

  private sweep(): void {
    const limit = now() - this.timeoutMs;
    for (const p of this.pending.values()) {
      if (!p.settled && p.t0 < limit) {
        this.timedOut++;
        this.settle(p, false);
      }
    }
  }

  /** Waits (at most `ms`) for every message to settle, stops the sweeper, and counts what was lost. */
  async finish(ms = this.timeoutMs + 1000): Promise<Correctness> {
    await waitUntil(() => this.unsettled === 0, ms, 20);
    clearInterval(this.sweeper);
    let lost = 0;
    for (const room of this.rooms) {
      const expected = new Set(this.ackedSeqs.get(room.conversationId));
      for (const r of room.recipients) for (const seq of this.cursors.get(r)!.get(room.conversationId)!.seen) expected.add(seq);
      for (const r of room.recipients) {
        const seen = this.cursors.get(r)!.get(room.conversationId)!.seen;
        for (const seq of expected) if (!seen.has(seq)) lost++;
      }
    }
    return { lost, duplicated: this.duplicated, outOfOrder: this.outOfOrder, unacked: this.sent - this.acked - this.errored, errors: this.errors };
  }
}

/**
 * Keeps `window` messages in flight per room (a message leaves the window once
 * acked and delivered) for `durationMs` (or until `maxMessages` were sent),
 * then lets the last ones complete.
 */
export async function pipeline(flow: Flow, rooms: Room[], window: number, durationMs: number, maxMessages = Infinity): Promise<{ elapsedMs: number }> {
  const start = now();
  const end = start + durationMs;
  let started = 0;
  await Promise.all(
    rooms.flatMap((room) =>
      Array.from({ length: window }, async () => {
        while (now() < end && started < maxMessages) {
          started++;
          await flow.send(room);
        }
      }),
    ),
  );
  return { elapsedMs: now() - start };
}

/** Sends `count` messages into `room` one at a time (each waits for the previous to complete), bounded by `maxMs`. */
export async function oneByOne(flow: Flow, room: Room, count: number, maxMs: number): Promise<number> {
  const end = now() + maxMs;
  let done = 0;
  while (done < count && now() < end) {
    await flow.send(room);
    done++;
  }
  return done;
}
