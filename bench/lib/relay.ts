/**
 * The ceiling: the least a WebSocket relay can do, on plain `ws` in Node.
 * No auth, no storage, no fan-out queue. A client joins a room
 * (`/room/<name>`); a `message.send` frame is forwarded to every other client
 * of the room as `message.new`, with a relay-assigned `seq`, and the sender
 * gets a `message.ack` — the same frames Beehive sends, so the same harness
 * (and the same correctness checks) measure both. `/echo` sends every frame
 * back as it came (the harness's own round trip). `/idle` only holds sockets.
 *
 * Runs in its own process (like workerd does) so it never shares the
 * harness's event loop:  node bench/lib/relay.ts <port>
 * Prints `{"ready":true,…}` and exits when its stdin closes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import { withTimeout } from './timing.ts';

function serve(port: number): WebSocketServer {
  const rooms = new Map<string, { seq: number; clients: Set<WebSocket> }>();
  const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false });
  wss.on('connection', (ws, req) => {
    const url = req.url ?? '/';
    if (url === '/echo') {
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      return;
    }
    const match = /^\/room\/([\w.:-]+)$/.exec(url);
    if (!match) return; // /idle and anything else: hold the socket, say nothing
    const name = match[1]!;
    const room = rooms.get(name) ?? { seq: 0, clients: new Set() };
    rooms.set(name, room);
    room.clients.add(ws);
    ws.on('close', () => room.clients.delete(ws));
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type: string; clientMsgId: string; msgType: string; content: unknown };
      if (frame.type !== 'message.send') return;
      const seq = ++room.seq;
      const createdAt = new Date().toISOString();
      const id = `${name}-${seq}`;
      ws.send(JSON.stringify({ type: 'message.ack', clientMsgId: frame.clientMsgId, conversationId: name, seq, id, createdAt }));
      const out = JSON.stringify({
        type: 'message.new',
        message: { id, conversationId: name, seq, senderId: 'relay', clientMsgId: frame.clientMsgId, type: frame.msgType, content: frame.content, createdAt },
      });
      for (const other of room.clients) if (other !== ws) other.send(out);
    });
  });
  return wss;
}

export interface Relay {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts the relay in a child process on `port`. */
export async function startRelay(port: number): Promise<Relay> {
  const child: ChildProcess = spawn(process.execPath, [fileURLToPath(import.meta.url), String(port)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const ready = new Promise<void>((resolve, reject) => {
    lines.once('line', () => resolve());
    child.once('exit', (code) => reject(new Error(`relay exited (${code})`)));
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.stdin!.end();
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    });
  try {
    await withTimeout(ready, 10_000, 'relay start');
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `ws://127.0.0.1:${port}`, pid: child.pid!, stop };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2]);
  const wss = serve(port);
  wss.once('listening', () => process.stdout.write(JSON.stringify({ ready: true, port, pid: process.pid }) + '\n'));
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}
