/**
 * The live-view socket (`/api/v1/conversations/:id/ws`): one conversation's
 * frames, held by its ConversationDO. Each socket is tagged with its user
 * and its session, so a removal closes the user's views and a revoked
 * session closes exactly the views it opened. Sends from a live view keep
 * the per-user limit without a round trip per message: the view borrows a
 * few tokens at a time from the user's bucket in their UserDO.
 */
import type { MessageAction } from '../../protocol/events.ts';
import { actionOf, type ServerFrame } from '../../protocol/frames.ts';
import { type SendInput, toSendInput } from '../../protocol/messages.ts';
import type { EventResult, Failure, Origin, ReadResult, SendResult, StreamResult } from '../contracts.ts';
import type { SocketHub } from '../kit/socket-hub.ts';
import { errorFrame, parseFrame } from '../kit/sockets.ts';
import type { ConversationState } from './state.ts';

/** What a live view needs of its ConversationDO. */
export interface LiveView {
  readonly st: ConversationState;
  readonly hub: SocketHub;
  /** Tokens from `userId`'s send bucket (their UserDO). */
  lease(userId: string, n: number): Promise<number>;
  send(senderId: string, inputs: SendInput[], origin: Origin): Promise<SendResult[]>;
  act(actorId: string, action: MessageAction, origin: Origin): Promise<EventResult>;
  markRead(userId: string, seq: number): Promise<ReadResult>;
  typing(userId: string): Promise<{ ok: true } | Failure>;
  events(userId: string, afterSeq: number, limit: number): Promise<StreamResult>;
}

interface Attachment {
  userId: string;
  sessionId: string;
  socketId: string;
}

/** Tokens borrowed from a user's send bucket at a time. */
const LEASE = 20;
const allowances = new WeakMap<LiveView, Map<string, number>>();

async function takeToken(view: LiveView, userId: string): Promise<boolean> {
  let mine = allowances.get(view);
  if (!mine) allowances.set(view, (mine = new Map()));
  const left = mine.get(userId) ?? 0;
  if (left > 0) {
    mine.set(userId, left - 1);
    return true;
  }
  const granted = await view.lease(userId, LEASE);
  mine.set(userId, Math.max(0, granted - 1));
  return granted > 0;
}

export async function acceptLiveView(view: LiveView, ctx: DurableObjectState, request: Request): Promise<Response> {
  const userId = request.headers.get('x-beehive-user');
  const sessionId = request.headers.get('x-beehive-session');
  if (request.headers.get('upgrade') !== 'websocket' || !userId || !sessionId) return new Response('expected an authenticated WebSocket upgrade', { status: 426 });
  if (!view.st.member(userId)) return Response.json({ error: { code: 'not_member', message: 'You are not a member of this conversation' } }, { status: 403 });
  const pair = new WebSocketPair();
  ctx.acceptWebSocket(pair[1], [`user:${userId}`, `sid:${sessionId}`]);
  pair[1].serializeAttachment({ userId, sessionId, socketId: crypto.randomUUID() } satisfies Attachment);
  return new Response(null, { status: 101, webSocket: pair[0] });
}

export function closeLiveViews(ctx: DurableObjectState, tag: string, code: number, reason: string): number {
  const sockets = ctx.getWebSockets(tag);
  for (const ws of sockets) ws.close(code, reason);
  return sockets.length;
}

export async function handleLiveFrame(view: LiveView, ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
  const { userId, socketId } = ws.deserializeAttachment() as Attachment;
  const answer = (frame: ServerFrame) => view.hub.answer(ws, frame);
  const parsed = parseFrame(data);
  if (!parsed.ok) return answer(parsed.error);
  const frame = parsed.frame;
  const conversationId = view.st.conv.id!;
  if ('conversationId' in frame && frame.conversationId !== conversationId) {
    return answer(errorFrame('validation_failed', 'This socket carries one conversation', 'clientMsgId' in frame ? frame.clientMsgId : 'ref' in frame ? frame.ref : undefined));
  }
  const origin = { deviceId: `#${socketId}` };
  switch (frame.type) {
    case 'ping':
      return answer({ type: 'pong' });
    case 'message.send': {
      if (!(await takeToken(view, userId))) return answer(errorFrame('rate_limited', 'Sending too fast; slow down', frame.clientMsgId));
      const { type: _t, conversationId: _c, msgType, ...rest } = frame;
      const [result] = await view.send(userId, [toSendInput({ ...rest, type: msgType })], origin);
      return answer(result!.ok ? { type: 'message.ack', ...result!.ack } : errorFrame(result!.code, result!.message, frame.clientMsgId));
    }
    case 'message.edit':
    case 'message.recall':
    case 'reaction.add':
    case 'reaction.remove': {
      const result = await view.act(userId, actionOf(frame), origin);
      if (!result.ok) return answer(errorFrame(result.code, result.message, frame.ref));
      // The acting socket was skipped by the broadcast (origin): its copy is the answer, in its place.
      return view.hub.sendFrame(ws, { type: 'conversation.event', event: result.event, ...(frame.ref ? { ref: frame.ref } : {}) }, { conversationId, seq: result.event.seq });
    }
    case 'message.read': {
      const result = await view.markRead(userId, frame.seq);
      if (!result.ok) answer(errorFrame(result.code, result.message));
      return;
    }
    case 'typing': {
      const result = await view.typing(userId);
      if (!result.ok) answer(errorFrame(result.code, result.message));
      return;
    }
    case 'sync':
      return syncLiveView(view, ws, userId, frame.cursors[conversationId]);
  }
}

/** Replays the conversation after `cursor` (or the member's read cursor), then sync.done; live frames wait meanwhile. */
async function syncLiveView(view: LiveView, ws: WebSocket, userId: string, cursor: number | undefined): Promise<void> {
  const conversationId = view.st.conv.id!;
  let at = cursor ?? view.st.member(userId)?.readSeq ?? 0;
  view.hub.beginSync(ws);
  try {
    for (;;) {
      const page = await view.events(userId, at, 100);
      if (!page.ok) return view.hub.answer(ws, errorFrame(page.code, page.message));
      for (const item of page.items) {
        const seq = 'message' in item ? item.message.seq : item.event.seq;
        view.hub.replay(ws, 'message' in item ? { type: 'message.new', message: item.message } : { type: 'conversation.event', event: item.event }, { conversationId, seq });
        at = seq;
      }
      if (page.items.length === 0 || at >= page.lastSeq) break;
    }
    view.hub.answer(ws, { type: 'sync.done', cursors: { [conversationId]: at } });
  } finally {
    view.hub.endSync(ws);
  }
}
