/**
 * A lean WebSocket client for the harness: every frame is timestamped the
 * moment it arrives (before JSON parsing) and handed to one callback, so the
 * receive path costs the same for Beehive and for the relay ceiling.
 */
import WebSocket from 'ws';
import { now, withTimeout } from './timing.ts';

export type Frame = { type: string; [key: string]: any };
export type FrameHandler = (frame: Frame, at: number) => void;

export class BenchSocket {
  /** Replaced by whoever drives the socket; the default drops frames. */
  onFrame: FrameHandler = () => {};
  closed = false;
  readonly ws: WebSocket;
  readonly label: string;

  private constructor(ws: WebSocket, label: string) {
    this.ws = ws;
    this.label = label;
    ws.on('message', (data) => {
      const at = now();
      this.onFrame(JSON.parse(data.toString()) as Frame, at);
    });
    ws.on('close', () => (this.closed = true));
    ws.on('error', () => {}); // a failed socket shows up as a missing delivery, counted as lost
  }

  /** Opens `url` (ws://…) with optional headers; rejects after `timeoutMs`. */
  static async open(url: string, opts: { headers?: Record<string, string>; label?: string; timeoutMs?: number } = {}): Promise<BenchSocket> {
    const ws = new WebSocket(url, {
      headers: opts.headers,
      perMessageDeflate: false, // neither Beehive (workerd) nor the relay compresses
      // wrangler dev's proxy may hold the TCP connection after the close handshake.
      closeTimeout: 1000,
      handshakeTimeout: opts.timeoutMs ?? 15_000,
    } as WebSocket.ClientOptions);
    const opened = new Promise<BenchSocket>((resolve, reject) => {
      ws.once('open', () => resolve(new BenchSocket(ws, opts.label ?? url)));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
    try {
      return await withTimeout(opened, (opts.timeoutMs ?? 15_000) + 1000, `open ${url}`);
    } catch (err) {
      ws.terminate();
      throw err;
    }
  }

  send(frame: Frame): void {
    this.ws.send(JSON.stringify(frame));
  }

  /** Closes cleanly, or tears the connection down after `ms`. */
  async close(ms = 2000): Promise<void> {
    if (this.closed || this.ws.readyState === WebSocket.CLOSED) return;
    const done = new Promise<void>((r) => this.ws.once('close', () => r()));
    this.ws.close(1000);
    await withTimeout(done, ms, 'close').catch(() => this.ws.terminate());
  }
}

/** Closes many sockets with bounded concurrency. */
export async function closeAll(sockets: BenchSocket[]): Promise<void> {
  for (let i = 0; i < sockets.length; i += 200) await Promise.all(sockets.slice(i, i + 200).map((s) => s.close()));
}
