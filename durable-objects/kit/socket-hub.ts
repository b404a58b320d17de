/**
 * Stream frames to hibernatable sockets, in order and exactly once per
 * socket. Each socket has, in memory, a cursor per conversation (the last seq
 * it was sent) and, while it runs a `sync`, a hold: live frames that arrive
 * during the replay wait and go out after it, minus what the replay already
 * covered. With `quietUntilSync` (the device socket) a socket gets nothing at
 * all until its first sync has replayed — "a connect pushes nothing by
 * itself"; the flag lives in the socket's attachment, so it survives
 * hibernation. The cursors and holds do not need to: a hold never outlives
 * the request that runs the sync, and after a wake every frame still comes
 * from a delivery that checks `seq` against what was delivered.
 */
import type { ServerFrame } from '../../protocol/frames.ts';
import { sendRaw } from './sockets.ts';

/** Where a frame sits in the stream, for frames that are entries of it. */
export interface Position {
  conversationId: string;
  seq: number;
}

interface Held {
  text: string;
  at?: Position;
}

interface SocketState {
  held: Held[] | null;
  cursors: Map<string, number>;
}

export interface HubAttachment {
  synced?: boolean;
}

export class SocketHub {
  private readonly sockets = new Map<WebSocket, SocketState>();
  private readonly quietUntilSync: boolean;

  constructor(opts: { quietUntilSync: boolean }) {
    this.quietUntilSync = opts.quietUntilSync;
  }

  private state(ws: WebSocket): SocketState {
    let s = this.sockets.get(ws);
    if (!s) this.sockets.set(ws, (s = { held: null, cursors: new Map() }));
    return s;
  }

  /** A live frame: held during a sync, dropped before the first sync (if quiet) or when the socket has it already. */
  send(ws: WebSocket, text: string, at?: Position): void {
    const s = this.state(ws);
    if (s.held) {
      s.held.push({ text, ...(at ? { at } : {}) });
      return;
    }
    if (this.quietUntilSync && !(ws.deserializeAttachment() as HubAttachment | null)?.synced) return;
    if (at) {
      if (at.seq <= (s.cursors.get(at.conversationId) ?? 0)) return;
      s.cursors.set(at.conversationId, at.seq);
    }
    sendRaw(ws, text);
  }

  sendFrame(ws: WebSocket, frame: ServerFrame, at?: Position): void {
    this.send(ws, JSON.stringify(frame), at);
  }

  /** A sync begins: live frames wait from now on. */
  beginSync(ws: WebSocket): void {
    this.state(ws).held ??= [];
  }

  /** A frame of the replay itself: straight out, moving the cursor. */
  replay(ws: WebSocket, frame: ServerFrame, at: Position): void {
    const s = this.state(ws);
    s.cursors.set(at.conversationId, Math.max(at.seq, s.cursors.get(at.conversationId) ?? 0));
    sendRaw(ws, JSON.stringify(frame));
  }

  /**
   * An answer to the socket's own request (ack, error, pong, sync.done): always, at once. It moves no
   * cursor — an answer may overtake entries still on their way — so an event that answers an action
   * goes out through `send`, in its place in the stream.
   */
  answer(ws: WebSocket, frame: ServerFrame): void {
    sendRaw(ws, JSON.stringify(frame));
  }

  /** The replay is sent: the socket is live, and what was held goes out, minus what the replay covered. */
  endSync(ws: WebSocket): void {
    const s = this.state(ws);
    const held = s.held ?? [];
    s.held = null;
    const att = (ws.deserializeAttachment() as HubAttachment | null) ?? {};
    if (this.quietUntilSync && !att.synced) ws.serializeAttachment({ ...att, synced: true });
    for (const h of held) this.send(ws, h.text, h.at);
  }

  forget(ws: WebSocket): void {
    this.sockets.delete(ws);
  }
}
