/** Wire helpers shared by the device socket (UserDO) and the live-view socket (ConversationDO). */
import { LIMITS } from '../../protocol/common.ts';
import { CLIENT_FRAME_TYPES, ClientFrame, type ServerFrame } from '../../protocol/frames.ts';

export function sendFrame(ws: WebSocket, frame: ServerFrame): void {
  sendRaw(ws, JSON.stringify(frame));
}

/** For a frame serialised once and sent to many sockets. */
export function sendRaw(ws: WebSocket, text: string): void {
  try {
    ws.send(text);
  } catch {
    // The socket is closing; the client will reconnect and sync.
  }
}

export function errorFrame(code: string, message: string, ref?: string): ServerFrame {
  return { type: 'error', code, message, ...(ref ? { ref } : {}) };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 size of a frame, without encoding it when its length alone decides (≤ 3 bytes per UTF-16 unit). */
function tooLarge(data: string | ArrayBuffer): boolean {
  if (typeof data !== 'string') return data.byteLength > LIMITS.frameBytes;
  if (data.length * 3 <= LIMITS.frameBytes) return false;
  if (data.length > LIMITS.frameBytes) return true;
  return encoder.encode(data).byteLength > LIMITS.frameBytes;
}

/** What an error answers: a send's clientMsgId, or an action frame's ref. */
function refOf(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const { clientMsgId, ref } = json as { clientMsgId?: unknown; ref?: unknown };
  if (typeof clientMsgId === 'string') return clientMsgId.slice(0, 64);
  return typeof ref === 'string' ? ref.slice(0, 64) : undefined;
}

/**
 * Parses one incoming frame. Oversized, non-JSON, unknown or malformed frames
 * become an `error` frame for the sender; the socket stays open.
 */
export function parseFrame(data: string | ArrayBuffer): { ok: true; frame: ClientFrame } | { ok: false; error: ServerFrame } {
  if (tooLarge(data)) return { ok: false, error: errorFrame('too_large', `Frames are limited to ${LIMITS.frameBytes} bytes`) };
  let json: unknown;
  try {
    json = JSON.parse(typeof data === 'string' ? data : decoder.decode(data));
  } catch {
    return { ok: false, error: errorFrame('invalid_json', 'A frame must be one JSON object') };
  }
  const parsed = ClientFrame.safeParse(json);
  if (parsed.success) return { ok: true, frame: parsed.data as ClientFrame };
  const ref = refOf(json);
  const type = (json as { type?: unknown } | null)?.type;
  if (typeof type !== 'string' || !(CLIENT_FRAME_TYPES as string[]).includes(type)) {
    return { ok: false, error: errorFrame('unknown_frame', `Unknown frame type: ${JSON.stringify(type ?? null)}`, ref) };
  }
  const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'frame'}: ${i.message}`).join('; ');
  return { ok: false, error: errorFrame('validation_failed', detail, ref) };
}
