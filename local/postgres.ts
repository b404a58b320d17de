/**
 * The local Postgres: PGlite (WASM Postgres, persisted in a folder) served
 * over the Postgres wire protocol, plus the WebSocket→TCP bridge that lets the
 * Neon serverless driver reach it (or any Postgres on this machine) unchanged.
 *
 *   Worker ── @neondatabase/serverless Pool ──ws──▶ bridge (proxyPort) ──tcp──▶ PGlite server (pglitePort)
 *                                                                         └──tcp──▶ real Postgres (DATABASE_URL)
 *
 * The driver only needs configuration to use the bridge (see db/client.ts):
 *
 *   neonConfig.wsProxy = wsProxyUrl;          // "127.0.0.1:<proxyPort>/v2"; the driver appends
 *                                             // "?address=<host>:<port>" and prefixes ws:// or wss://
 *   neonConfig.useSecureWebSocket = false;    // ws://, not wss:// (the bridge speaks plain WebSocket)
 *   neonConfig.pipelineTLS = false;           // no TLS inside the socket: Postgres SSL is off
 *   neonConfig.pipelineConnect = false;       // wait for the server's auth request instead of
 *                                             // sending the password blind (Neon-only shortcut)
 *   neonConfig.webSocketConstructor = ws;     // Node only (workerd has a global WebSocket)
 *
 * PGlite is a single Postgres session. Several client connections share it
 * through a session multiplexer (see SessionMultiplexer below) that hands the
 * session to one connection at a time for a whole protocol cycle, i.e. until
 * the backend says ReadyForQuery with status idle. That keeps extended-protocol
 * batches (Parse/Bind/Execute/Sync) and transactions (BEGIN … COMMIT) of one
 * connection from interleaving with another's.
 */
import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketHandler, type PGLiteSocketHandlerOptions } from '@electric-sql/pglite-socket';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';

export interface PostgresStack {
  /** A postgres:// URL for the database (PGlite's, or the real server's when one was given). */
  databaseUrl: string;
  /** The value for `neonConfig.wsProxy` (no scheme): `<host>:<proxyPort>/v2`. */
  wsProxyUrl: string;
  /** Simulates an outage (tests): the bridge drops its connections and refuses new ones until set back. */
  setAvailable(on: boolean): void;
  close(): Promise<void>;
}

export type PostgresLog = (e: Record<string, unknown>) => void;

export interface StartPostgresOptions {
  /** Folder holding PGlite's data (created if missing; reused across restarts). */
  dataDir: string;
  pglitePort: number;
  proxyPort: number;
  /** Interface both servers bind to, and the host in `databaseUrl`. Default 127.0.0.1. */
  host?: string;
  /** A real Postgres: don't start PGlite, only the bridge. */
  databaseUrl?: string;
  log?: PostgresLog;
  /** How long a connection may wait for the shared PGlite session before it is dropped. Default 30 s. */
  sessionWaitTimeoutMs?: number;
}

export async function startPostgres(opts: StartPostgresOptions): Promise<PostgresStack> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? (() => {});
  let pglite: PGliteServer | undefined;
  let databaseUrl = opts.databaseUrl;
  if (!databaseUrl) {
    pglite = await startPGliteServer({
      dataDir: opts.dataDir,
      port: opts.pglitePort,
      host,
      log,
      sessionWaitTimeoutMs: opts.sessionWaitTimeoutMs,
    });
    databaseUrl = `postgres://postgres:postgres@${urlHost(host)}:${pglite.port}/postgres`;
  }
  let bridge: NeonBridge;
  try {
    bridge = await startNeonBridge({ port: opts.proxyPort, host, log });
  } catch (err) {
    await pglite?.close();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    databaseUrl,
    wsProxyUrl: bridge.wsProxyUrl,
    setAvailable: (on) => bridge.setAvailable(on),
    close() {
      // Bridge first (no new traffic), then the wire server and PGlite itself.
      closing ??= (async () => {
        await bridge.close();
        await pglite?.close();
      })();
      return closing;
    },
  };
}

// ---------------------------------------------------------------------------
// The WebSocket→TCP bridge (what Neon runs as its "wsproxy").

export interface NeonBridge {
  port: number;
  wsProxyUrl: string;
  setAvailable(on: boolean): void;
  close(): Promise<void>;
}

/** The path the bridge serves; `/v2` like Neon's own proxy. */
const BRIDGE_PATH = '/v2';
/** Pause the slower side when this much is buffered towards it. */
const HIGH_WATER = 1 << 20;

export async function startNeonBridge(opts: { port: number; host?: string; log?: PostgresLog }): Promise<NeonBridge> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? (() => {});
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const server = http.createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
    res.end('WebSocket upgrade required\n');
  });
  const pipes = new Set<{ ws?: WebSocket; tcp: net.Socket }>();
  let available = true;

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (!available) return refuse(socket, 503, 'Postgres is unavailable (simulated outage)');
    const url = new URL(req.url ?? '/', 'http://bridge');
    if (url.pathname !== BRIDGE_PATH) return refuse(socket, 404, 'unknown path');
    const target = parseAddress(url.searchParams.get('address'));
    if (!target) return refuse(socket, 400, 'address must be host:port');
    if (!isLoopback(target.host)) {
      log({ event: 'pg_bridge.refused', address: url.searchParams.get('address'), reason: 'not loopback' });
      return refuse(socket, 403, 'only loopback addresses are allowed');
    }
    // Connect upstream before accepting the upgrade so a dead target is an HTTP error, not a half-open socket.
    const tcp = net.connect({ host: target.host, port: target.port });
    const pipe: { ws?: WebSocket; tcp: net.Socket } = { tcp };
    pipes.add(pipe);
    tcp.setNoDelay(true);
    tcp.pause();
    const onConnectError = (err: Error) => {
      pipes.delete(pipe);
      log({ event: 'pg_bridge.upstream_error', target: `${target.host}:${target.port}`, error: err.message });
      refuse(socket, 502, `cannot reach ${target.host}:${target.port}`);
    };
    tcp.once('error', onConnectError);
    tcp.once('connect', () => {
      tcp.off('error', onConnectError);
      if (socket.destroyed) {
        pipes.delete(pipe);
        tcp.destroy();
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        pipe.ws = ws;
        splice(ws, tcp, () => pipes.delete(pipe));
      });
    });
  });

  await listen(server, opts.port, host);
  const port = (server.address() as net.AddressInfo).port;
  log({ event: 'pg_bridge.listening', host, port });

  let closing: Promise<void> | undefined;
  return {
    port,
    wsProxyUrl: `${urlHost(host)}:${port}${BRIDGE_PATH}`,
    setAvailable(on: boolean) {
      available = on;
      if (on) return;
      for (const { ws, tcp } of pipes) {
        ws?.terminate();
        tcp.destroy();
      }
      pipes.clear();
      log({ event: 'pg_bridge.outage' });
    },
    close() {
      closing ??= (async () => {
        for (const { ws, tcp } of pipes) {
          ws?.terminate();
          tcp.destroy();
        }
        pipes.clear();
        await new Promise<void>((resolve) => {
          wss.close(() => resolve());
        });
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return closing;
    },
  };
}

/** Forward binary frames both ways until either side closes. */
function splice(ws: WebSocket, tcp: net.Socket, done: () => void): void {
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    done();
  };
  ws.on('message', (data: RawData) => {
    const chunk = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (!tcp.write(chunk)) {
      ws.pause();
      tcp.once('drain', () => ws.resume());
    }
  });
  tcp.on('data', (chunk: Buffer) => {
    ws.send(chunk, { binary: true }, () => {
      if (tcp.isPaused() && ws.bufferedAmount < HIGH_WATER) tcp.resume();
    });
    if (ws.bufferedAmount >= HIGH_WATER) tcp.pause();
  });
  ws.on('close', () => {
    tcp.end();
    finish();
  });
  ws.on('error', () => tcp.destroy());
  tcp.on('close', () => {
    if (ws.readyState === ws.OPEN) ws.close(1000, 'upstream closed');
    else ws.terminate();
    finish();
  });
  tcp.on('error', (err) => {
    if (ws.readyState === ws.OPEN) ws.close(1011, `upstream error: ${err.message}`.slice(0, 120));
  });
  tcp.resume();
}

function refuse(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed) return;
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Connection: close\r\nContent-Type: text/plain\r\n' +
      `Content-Length: ${Buffer.byteLength(message) + 1}\r\n\r\n${message}\n`,
  );
}

/** `host:port`, `[v6]:port` or a bare `v6:port` (the driver does not bracket IPv6). */
export function parseAddress(address: string | null): { host: string; port: number } | undefined {
  if (!address) return undefined;
  const colon = address.lastIndexOf(':');
  if (colon <= 0) return undefined;
  let host = address.slice(0, colon);
  const portText = address.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port < 1 || port > 65535) return undefined;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return host ? { host, port } : undefined;
}

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and `localhost`. Other names are not resolved: refused. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost') return true;
  if (net.isIPv4(h)) return h.split('.')[0] === '127';
  if (net.isIPv6(h)) {
    if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
    const mapped = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h) ?? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    return !!mapped?.[1] && net.isIPv4(mapped[1]) && mapped[1].split('.')[0] === '127';
  }
  return false;
}

// ---------------------------------------------------------------------------
// PGlite over the wire protocol.

interface PGliteServer {
  port: number;
  close(): Promise<void>;
}

/** Far above what a local stack opens; PGlite serves them one protocol cycle at a time anyway. */
const MAX_CONNECTIONS = 200;

async function startPGliteServer(opts: {
  dataDir: string;
  port: number;
  host: string;
  log: PostgresLog;
  sessionWaitTimeoutMs?: number;
}): Promise<PGliteServer> {
  const { log } = opts;
  await fs.mkdir(opts.dataDir, { recursive: true });
  const db = await PGlite.create(opts.dataDir);
  const mux = new SessionMultiplexer(db, log, opts.sessionWaitTimeoutMs ?? 30_000);

  // pglite-socket's PGLiteSocketServer builds its own query queue, which multiplexes
  // connections per *message*: under concurrency one connection's Parse lands between
  // another's Parse and Bind on the single PGlite session. So the server is this small
  // net server around the library's own per-connection protocol handler, given our
  // session multiplexer through its public `queryQueue` option.
  const handlers = new Set<PGLiteSocketHandler>();
  const sockets = new Set<net.Socket>();
  mux.onTerminate = (handlerId) => {
    for (const h of handlers) {
      if (h.handlerId !== handlerId) continue;
      handlers.delete(h); // detach() drops the socket's listeners, so no 'close' event will say so
      void h.detach(true);
    }
  };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    if (handlers.size >= MAX_CONNECTIONS) {
      log({ event: 'pglite.too_many_connections', max: MAX_CONNECTIONS });
      socket.destroy();
      return;
    }
    const handler = new PGLiteSocketHandler({
      queryQueue: mux as unknown as PGLiteSocketHandlerOptions['queryQueue'],
      closeOnDetach: true,
    });
    handlers.add(handler);
    const forget = () => handlers.delete(handler);
    handler.addEventListener('close', forget);
    handler.addEventListener('error', (e) => {
      forget();
      const detail = (e as CustomEvent<Error | undefined>).detail;
      if (!detail?.message?.includes('ECONNRESET')) log({ event: 'pglite.connection_error', error: detail?.message });
    });
    handler.attach(socket).catch((err: Error) => {
      forget();
      log({ event: 'pglite.attach_failed', error: err.message });
      socket.destroy();
    });
  });
  try {
    await listen(server, opts.port, opts.host);
  } catch (err) {
    await db.close();
    throw err;
  }
  const port = (server.address() as net.AddressInfo).port;
  log({ event: 'pglite.listening', host: opts.host, port, dataDir: opts.dataDir });

  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      closing ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        await Promise.all([...handlers].map((h) => h.detach(true)));
        for (const s of sockets) s.destroy();
        await serverClosed;
        await mux.drain();
        await db.close();
        log({ event: 'pglite.closed', dataDir: opts.dataDir });
      })();
      return closing;
    },
  };
}

interface QueuedMessage {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (err: Error) => void;
  queuedAt: number;
}

const READY_FOR_QUERY = 0x5a; // 'Z'
const TERMINATE = 0x58; // 'X'
const IDLE = 0x49; // 'I'

/**
 * Shares the one PGlite session among many connections. It has the surface
 * pglite-socket's PGLiteSocketHandler calls (`enqueue`, `getQueueLength`,
 * `clearQueueForHandler`, `clearTransactionIfNeeded`).
 *
 * A connection that sends a message becomes the session's owner and stays it
 * until the backend answers ReadyForQuery with status idle ('I'): the end of a
 * simple query, of an extended-protocol batch (at Sync), of a COPY, of a
 * transaction block. Other connections' messages wait, in arrival order.
 * An owner that disconnects mid-cycle gets its batch aborted and its
 * transaction rolled back, so the next owner starts from a clean session.
 */
class SessionMultiplexer {
  private queue: QueuedMessage[] = [];
  private owner: number | null = null;
  private readonly abandoned = new Set<number>();
  private pumping: Promise<void> | null = null;
  private pumpAgain = false;
  private waitTimer: ReturnType<typeof setInterval> | undefined;
  private readonly db: PGlite;
  private readonly log: PostgresLog;
  private readonly waitTimeoutMs: number;
  /** Set by the server: closes the connection of a handler that sent Terminate. */
  onTerminate: (handlerId: number) => void = () => {};

  constructor(db: PGlite, log: PostgresLog, waitTimeoutMs: number) {
    this.db = db;
    this.log = log;
    this.waitTimeoutMs = waitTimeoutMs;
  }

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ handlerId, message, onData, resolve, reject, queuedAt: Date.now() });
      this.pump();
    });
  }

  getQueueLength(): number {
    return this.queue.length;
  }

  clearQueueForHandler(handlerId: number, reason = 'connection closed'): void {
    this.queue = this.queue.filter((m) => {
      if (m.handlerId !== handlerId) return true;
      m.reject(new Error(reason));
      return false;
    });
  }

  /** Called when a connection goes away: if it holds the session, reset and release it. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.owner !== handlerId) return;
    this.abandoned.add(handlerId);
    await this.pump();
  }

  /** Resolves when nothing is running or runnable. */
  async drain(): Promise<void> {
    while (this.pumping) await this.pumping;
    clearInterval(this.waitTimer);
    this.waitTimer = undefined;
  }

  /** Runs the queue until nothing is runnable. A call while it runs makes it look again before stopping. */
  private pump(): Promise<void> {
    this.pumpAgain = true;
    this.pumping ??= (async () => {
      try {
        while (this.pumpAgain) {
          this.pumpAgain = false;
          await this.run();
        }
      } finally {
        this.pumping = null;
        this.watchWaiters();
      }
    })();
    return this.pumping;
  }

  private async run(): Promise<void> {
    for (;;) {
      if (this.owner !== null && this.abandoned.has(this.owner)) {
        await this.resetSession(this.owner);
        continue;
      }
      const index = this.owner === null ? 0 : this.queue.findIndex((m) => m.handlerId === this.owner);
      const next = index >= 0 ? this.queue[index] : undefined;
      if (!next) return; // idle, or the owner is mid-cycle and has not sent its next message yet
      this.queue.splice(index, 1);
      if (next.message[0] === TERMINATE) {
        // Not for PGlite: its one session outlives every connection. A connection that
        // leaves mid-transaction (or mid-batch) gets that undone instead.
        if (this.owner === next.handlerId) this.abandoned.add(next.handlerId);
        next.resolve(0);
        // Postgres ends the connection after Terminate; so must we, or every pool leaves one behind.
        const terminated = next.handlerId;
        setImmediate(() => this.onTerminate(terminated));
        continue;
      }
      this.owner = next.handlerId;
      const rfq = new ReadyForQueryScanner();
      let bytes = 0;
      try {
        await this.db.runExclusive(() =>
          this.db.execProtocolRawStream(next.message, {
            onRawData: (data) => {
              bytes += data.length;
              rfq.feed(data);
              next.onData(data);
            },
          }),
        );
      } catch (err) {
        // PGlite failed outside the protocol (SQL errors arrive as ErrorResponse messages).
        this.abandoned.add(next.handlerId);
        next.reject(err instanceof Error ? err : new Error(String(err)));
        continue;
      }
      if (rfq.lastStatus === IDLE) this.owner = null;
      next.resolve(bytes);
    }
  }

  /** Leave the session as a fresh connection would find it. */
  private async resetSession(handlerId: number): Promise<void> {
    this.abandoned.delete(handlerId);
    this.clearQueueForHandler(handlerId);
    try {
      await this.db.runExclusive(async () => {
        // CopyFail ends a COPY FROM STDIN (ignored otherwise); Sync ends an extended-protocol batch.
        await this.db.execProtocolRaw(pgMessage(0x66, cString('client disconnected')));
        await this.db.execProtocolRaw(pgMessage(0x53, new Uint8Array()));
      });
      if (this.db.isInTransaction()) await this.db.exec('ROLLBACK');
      this.log({ event: 'pglite.session_reset', connection: handlerId });
    } catch (err) {
      this.log({ event: 'pglite.session_reset_failed', connection: handlerId, error: String(err) });
    }
    if (this.owner === handlerId) this.owner = null;
  }

  /** Drop connections that waited too long for a session another connection holds (e.g. idle in transaction). */
  private watchWaiters(): void {
    if (this.queue.length === 0) {
      clearInterval(this.waitTimer);
      this.waitTimer = undefined;
      return;
    }
    this.waitTimer ??= setInterval(() => {
      const now = Date.now();
      const expired = this.queue.filter((m) => m.handlerId !== this.owner && now - m.queuedAt > this.waitTimeoutMs);
      for (const m of expired) {
        this.log({
          event: 'pglite.session_wait_timeout',
          connection: m.handlerId,
          heldBy: this.owner,
          inTransaction: this.db.isInTransaction(),
          waitedMs: now - m.queuedAt,
        });
        // The handler then closes its connection: the client gets an error instead of a hang.
        this.clearQueueForHandler(m.handlerId, `waited ${now - m.queuedAt} ms for the PGlite session`);
      }
      if (this.queue.length === 0) {
        clearInterval(this.waitTimer);
        this.waitTimer = undefined;
      }
    }, Math.min(1000, this.waitTimeoutMs));
    this.waitTimer.unref?.();
  }
}

/** Finds the status byte of the last ReadyForQuery in a stream of backend messages. */
class ReadyForQueryScanner {
  lastStatus: number | null = null;
  private readonly header = new Uint8Array(5);
  private headerLength = 0;
  private remaining = 0;

  feed(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.headerLength < 5) {
        this.header[this.headerLength++] = chunk[i++]!;
        if (this.headerLength === 5) {
          const length = new DataView(this.header.buffer).getInt32(1);
          this.remaining = length - 4;
          if (this.remaining <= 0) this.headerLength = 0;
        }
        continue;
      }
      const n = Math.min(this.remaining, chunk.length - i);
      if (this.header[0] === READY_FOR_QUERY) this.lastStatus = chunk[i + n - 1]!;
      i += n;
      this.remaining -= n;
      if (this.remaining === 0) this.headerLength = 0;
    }
  }
}

function pgMessage(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + body.length);
  out[0] = type;
  new DataView(out.buffer).setInt32(1, 4 + body.length);
  out.set(body, 5);
  return out;
}

function cString(s: string): Uint8Array {
  const bytes = new TextEncoder().encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

// ---------------------------------------------------------------------------

function listen(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function urlHost(host: string): string {
  return net.isIPv6(host) ? `[${host}]` : host;
}
