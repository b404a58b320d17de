/**
 * The device socket (API.md § WebSocket) as a client: one-time ticket auth,
 * `sync` from per-conversation cursors on every (re)connect, reconnect with
 * exponential backoff and jitter, a heartbeat that notices a dead link, typed
 * frames, and send helpers that resolve with the answer to their frame (the
 * ack by `clientMsgId`, the event by `ref`).
 *
 * Cursors hold the last seq seen per conversation; they move only with
 * stream frames (`message.new`, `conversation.event`) and `sync.done`, never
 * with an ack: an ack can overtake a lower seq still on its way, so moving on
 * it could skip that seq after a reconnect. The price is that a device may
 * see its own message once more after a reconnect; it is the same seq, so
 * a list keyed by seq takes it once.
 */
import { randomId } from './ids.ts';
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import type { Ack, ClientFrame, Content, Event, MsgType, ServerFrame, ServerFrameOf } from './types.ts';

/** `online`: synced, live frames flowing. `syncing`: connected, replaying. `connecting`: on the way. `offline`: no socket. */
export type SocketState = 'connecting' | 'syncing' | 'online' | 'offline';

/** The part of the WebSocket API the client uses: browsers' and Node 22's global `WebSocket` both have it. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
}
export type WebSocketFactory = (url: string) => WebSocketLike;

export interface SocketOptions {
  /** The device socket's URL: `wss://host/api/v1/ws` (no query). */
  url: string;
  /** Names this device (`[\w.:-]`, ≤ 64): the server keeps one socket per device. */
  deviceId: string;
  /** A fresh one-time ticket (`POST /auth/ws-ticket`) for every connect. A rejection with `status` 401 stops the socket. */
  ticket: () => Promise<string>;
  /** Where replay starts: the last seq this device has per conversation. */
  cursors?: Record<string, number>;
  /** How to open a socket (default: the global `WebSocket`). */
  connect?: WebSocketFactory;
  backoff?: BackoffOptions;
  random?: () => number;
  /** Ping after this long without a frame; a ping unanswered for `heartbeatMs / 2` drops the socket (default 25 s). */
  heartbeatMs?: number;
  /** How long a sent frame waits for its answer once on the wire (default 20 s). */
  answerTimeoutMs?: number;
}

/** A frame the server refused (`error` frame), or an answer that did not come. */
export class SocketError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'SocketError';
    this.code = code;
  }
}

/** A new message: composed (`msgType` + `content`) or a forward (`forwardOf`). `clientMsgId` defaults to a random id. */
export type OutgoingMessage = { conversationId: string; clientMsgId?: string } & (
  | { msgType: MsgType; content: Content; fileId?: string; replyToSeq?: number; mentions?: string[]; mentionAll?: boolean }
  | { forwardOf: { conversationId: string; seq: number } }
);

interface Pending {
  frame: ClientFrame;
  resolve(frame: ServerFrame): void;
  reject(error: Error): void;
  timer?: ReturnType<typeof setTimeout>;
}

type Listener = (frame: ServerFrame) => void;
const OPEN = 1;

export class BeehiveSocket {
  /** The last seq seen per conversation (read-only from outside; it is what the next `sync` sends). */
  readonly cursors: Record<string, number>;
  private readonly opts: SocketOptions;
  private readonly connectFn: WebSocketFactory;
  private ws: WebSocketLike | null = null;
  private current: SocketState = 'offline';
  private attempt = 0;
  private running = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly pending = new Map<string, Pending>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly stateListeners = new Set<(s: SocketState) => void>();
  private refs = 0;

  constructor(opts: SocketOptions) {
    this.opts = opts;
    this.cursors = { ...opts.cursors };
    this.connectFn = opts.connect ?? ((url) => new WebSocket(url) as unknown as WebSocketLike);
  }

  get state(): SocketState {
    return this.current;
  }

  /** Connects (and keeps reconnecting) until `stop()`. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempt = 0;
    void this.open();
  }

  /** Closes for good: no reconnect; unanswered frames are rejected. */
  stop(): void {
    this.running = false;
    clearTimeout(this.reconnectTimer);
    this.drop();
    for (const [key, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new SocketError('closed', 'The socket was closed'));
      this.pending.delete(key);
    }
    this.setState('offline');
  }

  /**
   * The network went away (the browser's `offline` event): drop the socket now
   * instead of waiting for the heartbeat, and hold reconnects until `resume()`.
   * Unanswered frames stay queued and go out again after the next sync.
   */
  pause(): void {
    this.running = false;
    clearTimeout(this.reconnectTimer);
    this.drop();
    this.setState('offline');
  }

  /** The network is back: reconnect at once (backoff starts over). */
  resume(): void {
    clearTimeout(this.reconnectTimer);
    if (this.running && this.ws) return;
    this.running = true;
    this.attempt = 0;
    void this.open();
  }

  /** Moves cursors forward (never back), e.g. to the `lastSeq`s of a conversation list just loaded: the next sync starts there. */
  seed(cursors: Record<string, number>): void {
    for (const [id, seq] of Object.entries(cursors)) this.advance(id, seq);
  }

  /** Frames of one type; returns the unsubscribe function. */
  on<T extends ServerFrame['type']>(type: T, fn: (frame: ServerFrameOf<T>) => void): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(fn as Listener);
    return () => set.delete(fn as Listener);
  }

  /** Every frame, after the cursors have moved. */
  onFrame(fn: Listener): () => void {
    return this.on('*' as ServerFrame['type'], fn);
  }

  onState(fn: (state: SocketState) => void): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  /** Sends a frame now if synced; false if it could not go (fire-and-forget frames: read, typing). */
  send(frame: ClientFrame): boolean {
    if (this.current !== 'online' || this.ws?.readyState !== OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** Sends a message; resolves with its ack. Queued while offline; resent after a reconnect (the same clientMsgId: never twice). */
  sendMessage(msg: OutgoingMessage): Promise<Ack> {
    const clientMsgId = msg.clientMsgId ?? randomId();
    const frame = { type: 'message.send', ...msg, clientMsgId } as ClientFrame;
    return this.request(clientMsgId, frame).then((f) => {
      const { type: _t, ...ack } = f as ServerFrameOf<'message.ack'>;
      return ack;
    });
  }

  /** Edits my text message; resolves with the `message.edited` event. */
  edit(conversationId: string, seq: number, content: string): Promise<Event> {
    return this.action((ref) => ({ type: 'message.edit', conversationId, seq, content, ref }));
  }

  /** Recalls a message; resolves with the `message.recalled` event. */
  recall(conversationId: string, seq: number): Promise<Event> {
    return this.action((ref) => ({ type: 'message.recall', conversationId, seq, ref }));
  }

  /** Adds (`on`) or takes back a reaction; resolves with the event (for a repeat: the earlier one). */
  react(conversationId: string, seq: number, emoji: string, on: boolean): Promise<Event> {
    return this.action((ref) => ({ type: on ? 'reaction.add' : 'reaction.remove', conversationId, seq, emoji, ref }));
  }

  /** Moves my read cursor (not queued: the next read after a reconnect says the same). */
  read(conversationId: string, seq: number): boolean {
    return this.send({ type: 'message.read', conversationId, seq });
  }

  typing(conversationId: string): boolean {
    return this.send({ type: 'typing', conversationId });
  }

  // ── internals ───────────────────────────────────────────────────────────

  private action(build: (ref: string) => ClientFrame): Promise<Event> {
    const ref = `r${++this.refs}-${Math.random().toString(36).slice(2, 8)}`;
    return this.request(ref, build(ref)).then((f) => (f as ServerFrameOf<'conversation.event'>).event);
  }

  private request(key: string, frame: ClientFrame): Promise<ServerFrame> {
    return new Promise((resolve, reject) => {
      const p: Pending = { frame, resolve, reject };
      this.pending.set(key, p);
      if (this.current === 'online') this.transmit(key, p);
    });
  }

  private transmit(key: string, p: Pending): void {
    if (this.ws?.readyState !== OPEN) return;
    this.ws.send(JSON.stringify(p.frame));
    clearTimeout(p.timer);
    p.timer = setTimeout(() => {
      this.pending.delete(key);
      p.reject(new SocketError('timeout', `No answer to ${p.frame.type} within ${this.answerTimeout} ms`));
    }, this.answerTimeout);
  }

  private get answerTimeout(): number {
    return this.opts.answerTimeoutMs ?? 20_000;
  }

  private async open(): Promise<void> {
    if (!this.running || this.ws) return;
    this.setState('connecting');
    let ticket: string;
    try {
      ticket = await this.opts.ticket();
    } catch (err) {
      if ((err as { status?: number }).status === 401) return this.stop();
      return this.retry();
    }
    if (!this.running || this.ws) return;
    const url = new URL(this.opts.url);
    url.searchParams.set('ticket', ticket);
    url.searchParams.set('deviceId', this.opts.deviceId);
    let ws: WebSocketLike;
    try {
      ws = this.connectFn(url.toString());
    } catch {
      return this.retry();
    }
    this.ws = ws;
    ws.onopen = () => {
      this.setState('syncing');
      ws.send(JSON.stringify({ type: 'sync', cursors: this.cursors }));
      this.beat();
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      let frame: ServerFrame;
      try {
        frame = JSON.parse(ev.data) as ServerFrame;
      } catch {
        return;
      }
      this.beat();
      this.receive(frame);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearTimeout(this.heartbeatTimer);
      for (const p of this.pending.values()) clearTimeout(p.timer);
      this.retry();
    };
    ws.onerror = () => undefined; // a close follows
  }

  private retry(): void {
    if (!this.running) return this.setState('offline');
    this.setState('offline');
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.open(), backoffDelay(this.attempt++, this.opts.backoff, this.opts.random));
  }

  /** Closes the current socket, detached first so its close does not schedule a reconnect. */
  private drop(): void {
    const ws = this.ws;
    this.ws = null;
    clearTimeout(this.heartbeatTimer);
    for (const p of this.pending.values()) clearTimeout(p.timer);
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try {
      ws.close(1000, 'client closed');
    } catch {
      /* already closing */
    }
  }

  /** Any frame proves the link; after a quiet spell, ping, and give up on the socket if even that gets nothing. */
  private beat(): void {
    clearTimeout(this.heartbeatTimer);
    const every = this.opts.heartbeatMs ?? 25_000;
    this.heartbeatTimer = setTimeout(() => {
      if (this.ws?.readyState === OPEN) this.ws.send(JSON.stringify({ type: 'ping' }));
      this.heartbeatTimer = setTimeout(() => {
        const ws = this.ws;
        this.drop();
        if (ws) this.retry();
      }, every / 2);
    }, every);
  }

  private receive(frame: ServerFrame): void {
    switch (frame.type) {
      case 'message.new':
        this.advance(frame.message.conversationId, frame.message.seq);
        break;
      case 'conversation.event':
        this.advance(frame.event.conversationId, frame.event.seq);
        break;
      case 'sync.done':
        for (const [id, seq] of Object.entries(frame.cursors)) this.advance(id, seq);
        this.attempt = 0;
        this.setState('online');
        for (const [key, p] of this.pending) this.transmit(key, p);
        break;
    }
    this.answer(frame);
    for (const fn of this.listeners.get(frame.type) ?? []) fn(frame);
    for (const fn of this.listeners.get('*') ?? []) fn(frame);
  }

  /** Settles the pending request a frame answers. */
  private answer(frame: ServerFrame): void {
    const key = frame.type === 'message.ack' ? frame.clientMsgId : frame.type === 'conversation.event' || frame.type === 'error' ? frame.ref : undefined;
    const p = key === undefined ? undefined : this.pending.get(key);
    if (!p || key === undefined) return;
    this.pending.delete(key);
    clearTimeout(p.timer);
    if (frame.type === 'error') p.reject(new SocketError(frame.code, frame.message));
    else p.resolve(frame);
  }

  private advance(conversationId: string, seq: number): void {
    if (seq > (this.cursors[conversationId] ?? 0)) this.cursors[conversationId] = seq;
  }

  private setState(state: SocketState): void {
    if (state === this.current) return;
    this.current = state;
    for (const fn of this.stateListeners) fn(state);
  }
}
