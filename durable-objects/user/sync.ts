/**
 * `sync` on the device socket: per conversation, replay every message and
 * event after the device's cursor (or, for a conversation it did not name,
 * after the user's read cursor), then the notifications kept for the user,
 * then `sync.done`. Live frames that arrive meanwhile are held by the socket
 * hub and sent after, minus what the replay covered, so the device sees each
 * seq once and in order. A conversation the index does not know is checked
 * against Postgres first: a made-up id never reaches a ConversationDO.
 */
import { seqOf } from '../../protocol/events.ts';
import type { ClientFrame, ServerFrame } from '../../protocol/frames.ts';
import { membershipOf } from '../../services/membership.ts';
import type { StreamResult } from '../contracts.ts';
import { withDb } from '../kit/postgres.ts';
import type { SocketHub } from '../kit/socket-hub.ts';
import { errorFrame } from '../kit/sockets.ts';
import type { ConvRow } from './schema.ts';

export interface SyncDeps {
  sql: SqlStorage;
  env: Env;
  ctx: DurableObjectState;
  hub: SocketHub;
  me: string;
}

const PAGE = 100;

export async function sync(d: SyncDeps, ws: WebSocket, frame: Extract<ClientFrame, { type: 'sync' }>): Promise<void> {
  d.hub.beginSync(ws);
  const sent: Record<string, number> = {};
  try {
    const index = new Map(d.sql.exec<ConvRow>('SELECT * FROM convs').toArray().map((r) => [r.conversation_id, r]));
    const ids = new Set([...index.keys(), ...Object.keys(frame.cursors)]);
    for (const conversationId of ids) {
      const row = index.get(conversationId);
      let cursor = frame.cursors[conversationId] ?? row?.read_seq ?? 0;
      // The index says there is nothing newer: no need to ask.
      if (row && !(conversationId in frame.cursors) && row.last_seq <= cursor) {
        sent[conversationId] = cursor;
        continue;
      }
      if (!row) {
        const membership = await withDb(d.env, d.ctx, (db) => membershipOf(db, conversationId, d.me)).catch(() => 'unknown' as const);
        if (membership !== 'member') {
          const [code, message] = membership === 'not_found' ? ['not_found', 'No such conversation'] : membership === 'not_member' ? ['not_member', 'You are not a member of this conversation'] : ['unavailable', 'Cannot check this conversation right now'];
          d.hub.answer(ws, errorFrame(code, `${conversationId}: ${message}`));
          continue;
        }
      }
      const stub = d.env.CONVERSATIONS.getByName(conversationId);
      for (;;) {
        const page: StreamResult = await stub.events(d.me, cursor, PAGE);
        if (!page.ok) {
          d.hub.answer(ws, errorFrame(page.code, `${conversationId}: ${page.message}`));
          break;
        }
        for (const item of page.items) {
          const frame: ServerFrame = 'message' in item ? { type: 'message.new', message: item.message } : { type: 'conversation.event', event: item.event };
          cursor = seqOf(item);
          d.hub.replay(ws, frame, { conversationId, seq: cursor });
        }
        sent[conversationId] = Math.max(cursor, sent[conversationId] ?? 0);
        if (page.items.length < PAGE || cursor >= page.lastSeq) break;
      }
    }
    for (const { id, frame: pending } of d.sql.exec<{ id: number; frame: string }>('SELECT id, frame FROM pending_events ORDER BY id').toArray()) {
      d.hub.answer(ws, JSON.parse(pending) as ServerFrame);
      d.sql.exec('DELETE FROM pending_events WHERE id = ?', id);
    }
    d.hub.answer(ws, { type: 'sync.done', cursors: sent });
  } finally {
    d.hub.endSync(ws);
  }
}
