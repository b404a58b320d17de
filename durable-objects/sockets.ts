/** Wire helpers shared by the device socket (UserDO) and the live-view socket (ConversationDO). */
import { LIMITS } from '../protocol/common.ts';
import { ClientFrame, type ServerFrame } from '../protocol/messages.ts';

export function sendFrame(ws: WebSocket, frame: ServerFrame): void {
  try {
    ws.send(JSON.stringify(frame));
  } catch {
    // The socket is closing; the client will reconnect and sync.
  }
}

export function errorFrame(code: string, message: string, ref?: string): ServerFrame {
  return { type: 'error', code, message, ...(ref ? { ref } : {}) };
}

/**
 * Parses one incoming frame. Oversized, non-JSON, unknown or malformed frames
 * become an `error` frame for the sender; the socket stays open.
 */
export function parseFrame(data: string | ArrayBuffer): { ok: true; frame: ClientFrame } | { ok: false; error: ServerFrame } {
  const size = typeof data === 'string' ? new TextEncoder().encode(data).byteLength : data.byteLength;
  if (size > LIMITS.frameBytes) return { ok: false, error: errorFrame('too_large', `Frames are limited to ${LIMITS.frameBytes} bytes`) };
  let json: unknown;
  try {
    json = JSON.parse(typeof data === 'string' ? data : new TextDecoder().decode(data));
  } catch {
    return { ok: false, error: errorFrame('invalid_json', 'A frame must be one JSON object') };
  }
  const ref = typeof (json as { clientMsgId?: unknown })?.clientMsgId === 'string' ? (json as { clientMsgId: string }).clientMsgId : undefined;
  const parsed = ClientFrame.safeParse(json);
  if (!parsed.success) {
    const type = (json as { type?: unknown })?.type;
    const known = ['message.send', 'message.read', 'typing', 'sync', 'ping'];
    if (typeof type !== 'string' || !known.includes(type)) {
      return { ok: false, error: errorFrame('unknown_frame', `Unknown frame type: ${JSON.stringify(type ?? null)}`, ref) };
    }
    const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'frame'}: ${i.message}`).join('; ');
    return { ok: false, error: errorFrame('validation_failed', detail, ref) };
  }
  return { ok: true, frame: parsed.data };
}
