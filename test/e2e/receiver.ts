/**
 * A webhook receiver on loopback for the e2e tests: a `node:http` server that
 * records every request (raw body, headers, time) and answers with whatever
 * status `respond` says, so tests can fail attempts on purpose.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  body: string;
  json: any;
  headers: IncomingHttpHeaders;
  at: number;
  /** What this attempt was answered with. */
  status: number;
}

export class Receiver {
  readonly received: Received[] = [];
  /** The status to answer a request with (default 204). */
  respond: (r: Received, attempt: number) => number = () => 204;
  private readonly server: Server;
  private readonly waiters: Array<() => void> = [];

  private constructor(server: Server) {
    this.server = server;
  }

  static async start(): Promise<Receiver> {
    const server = createServer();
    const r = new Receiver(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown = null;
        try {
          json = JSON.parse(body);
        } catch {
          /* kept as text */
        }
        const got: Received = { body, json, headers: req.headers, at: Date.now(), status: 0 };
        const attempt = r.received.filter((x) => x.headers['webhook-id'] === req.headers['webhook-id']).length + 1;
        got.status = r.respond(got, attempt);
        r.received.push(got);
        res.statusCode = got.status;
        res.end();
        for (const w of r.waiters.splice(0)) w();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return r;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  /** Waits until `ok(received)` holds, or fails after `ms`. */
  async until(ok: (all: Received[]) => boolean, ms = 10_000): Promise<Received[]> {
    const deadline = Date.now() + ms;
    while (!ok(this.received)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`receiver: condition not met within ${ms} ms; got ${JSON.stringify(this.received.map((x) => [x.headers['webhook-id'], x.json?.type, x.json?.seq]))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => (clearTimeout(t), resolve()));
      });
    }
    return this.received;
  }

  /** The requests that were answered 2xx, in arrival order. */
  delivered(): Received[] {
    return this.received.filter((r) => r.status < 300);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
