/** A real WebSocket client for the e2e tests: frames are queued and awaited by predicate, with deadlines. */
import WebSocket from 'ws';
import { stack } from './client.ts';

export type Frame = { type: string; [key: string]: any };

/** Frames that are entries of a conversation's stream. */
export const isEntry = (f: Frame): boolean => f.type === 'message.new' || f.type === 'conversation.event';
/** The seq of a stream frame. */
export const seqOf = (f: Frame): number => (f.type === 'message.new' ? f.message.seq : f.event.seq);
/** A stream frame as the item `GET …/events` lists for it. */
export const itemOf = (f: Frame): { message: any } | { event: any } => (f.type === 'message.new' ? { message: f.message } : { event: f.event });

export class Socket {
  /** Received and not yet taken by `next`. */
  readonly frames: Frame[] = [];
  /** Everything received, in arrival order (never taken from). */
  readonly log: Frame[] = [];
  private waiters: Array<{ test: (f: Frame) => boolean; resolve: (f: Frame) => void }> = [];
  closed: { code: number; reason: string } | null = null;

  readonly ws: WebSocket;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      this.log.push(frame);
      const i = this.waiters.findIndex((w) => w.test(frame));
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(frame);
      else this.frames.push(frame);
    });
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
  }

  /** Opens the device socket (or a conversation's live view with `path`). */
  static open(opts: { token?: string; deviceId?: string; ticket?: string; path?: string; origin?: string }): Promise<Socket> {
    const url = new URL(`${stack.api.replace(/^http/, 'ws')}${opts.path ?? '/api/v1/ws'}`);
    if (opts.deviceId) url.searchParams.set('deviceId', opts.deviceId);
    if (opts.ticket) url.searchParams.set('ticket', opts.ticket);
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.origin) headers.origin = opts.origin;
    // wrangler dev's proxy may hold the TCP connection after the close handshake; do not wait 30 s for it.
    const ws = new WebSocket(url, { headers, closeTimeout: 1000 } as WebSocket.ClientOptions);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new Socket(ws)));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  /** Opens the device socket and runs its first `sync` (a device socket gets nothing live before it), dropping the replay. */
  static async connect(opts: { token?: string; deviceId?: string; ticket?: string; origin?: string }): Promise<Socket> {
    const s = await Socket.open(opts);
    await s.sync();
    s.frames.length = 0;
    return s;
  }

  send(frame: Frame | string): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The next frame matching `test` (already received or arriving within `ms`). */
  next(test: (f: Frame) => boolean = () => true, ms = 5000): Promise<Frame> {
    const i = this.frames.findIndex(test);
    if (i >= 0) return Promise.resolve(this.frames.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter = { test, resolve: (f: Frame) => (clearTimeout(timer), resolve(f)) };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no matching frame within ${ms} ms; queued: ${JSON.stringify(this.frames.slice(-5))}`));
      }, ms);
      this.waiters.push(waiter);
    });
  }

  nextOfType(type: string, ms?: number): Promise<Frame> {
    return this.next((f) => f.type === type, ms);
  }

  /** Sends `sync` and collects every `message.new` until `sync.done`. */
  async sync(cursors: Record<string, number> = {}): Promise<{ messages: Frame[]; done: Frame }> {
    this.send({ type: 'sync', cursors });
    const done = await this.nextOfType('sync.done', 10_000);
    const messages: Frame[] = [];
    for (let i = this.frames.findIndex((f) => f.type === 'message.new'); i >= 0; i = this.frames.findIndex((f) => f.type === 'message.new')) {
      messages.push(this.frames.splice(i, 1)[0]!);
    }
    return { messages, done };
  }

  /**
   * Sends `sync` and returns the stream entries of its replay (message.new and conversation.event, in
   * arrival order) and its sync.done; frames that came after sync.done stay queued.
   */
  async replay(cursors: Record<string, number> = {}): Promise<{ entries: Frame[]; done: Frame }> {
    const from = this.log.length;
    this.send({ type: 'sync', cursors });
    const done = await this.nextOfType('sync.done', 10_000);
    const entries = this.log.slice(from, this.log.indexOf(done)).filter(isEntry);
    for (const f of entries) {
      const i = this.frames.indexOf(f);
      if (i >= 0) this.frames.splice(i, 1);
    }
    return { entries, done };
  }

  /** Resolves once the server closed the socket, or after `ms`; the close (code, reason) or null. */
  async closedWithin(ms = 5000): Promise<{ code: number; reason: string } | null> {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    return this.closed;
  }

  /** Frames of `type` received within `ms` (for asserting that nothing more arrives). */
  async drain(type: string, ms = 300): Promise<Frame[]> {
    await new Promise((r) => setTimeout(r, ms));
    const out = this.frames.filter((f) => f.type === type);
    for (const f of out) this.frames.splice(this.frames.indexOf(f), 1);
    return out;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close(1000);
    });
  }
}
