/**
 * Edits, recalls and reactions in the ConversationDO: the target loaded
 * (back from Postgres if it is older than the hot window), the rules
 * (commands.ts), then one event through the one append. A repeat makes no
 * new entry: it answers with the event that made the current state.
 */
import type { Event, MessageAction } from '../../protocol/events.ts';
import type { EventResult, Origin } from '../contracts.ts';
import { edit, notMember, react, recall } from './commands.ts';
import { append, messageAt } from './event-log.ts';
import { loadMessage, visibleFrom } from './history.ts';
import { eventFromPg } from './pg.ts';
import { toEvent } from './rows.ts';
import type { EventRow } from './schema.ts';
import type { Deps, Entry } from './state.ts';

export async function act(d: Deps, commit: (entries: Entry[]) => void, actorId: string, action: MessageAction, origin: Origin): Promise<EventResult> {
  const m = d.st.member(actorId);
  if (!m) return notMember(d.st);
  const loaded = action.seq >= visibleFrom(m) ? await loadMessage(d, action.seq).catch(() => undefined) : undefined;
  const target = loaded && messageAt(d.st, d.storage.sql, action.seq);
  const now = Date.now();
  let decision;
  if (action.kind === 'edit') decision = edit(d.st, actorId, target, action.content, now, Number(d.env.EDIT_WINDOW_SECONDS));
  else if (action.kind === 'recall') decision = recall(d.st, actorId, target, now, Number(d.env.RECALL_WINDOW_SECONDS));
  else decision = react(d.st, actorId, target, action.emoji, action.on);
  if (decision === 'already') {
    const { version } = d.storage.sql.exec<{ version: number }>('SELECT version FROM messages WHERE seq = ?', action.seq).one();
    return earlierEvent(d, version);
  }
  if (decision === 'unchanged') return reactionEvent(d, action.seq, (action as { emoji: string }).emoji, actorId);
  if ('ok' in decision) return decision;
  const [entry] = append(d.st, d.storage, [{ event: decision, origin: origin.deviceId, selfDelivered: origin.selfDelivered }], now);
  commit([entry!]);
  return { ok: true, event: (entry!.item as { event: Event }).event, changed: true };
}

/** The event at `seq` (here, or in Postgres below the hot window): a repeated recall's answer. */
async function earlierEvent(d: Deps, seq: number): Promise<EventResult> {
  const row = d.storage.sql.exec<EventRow>('SELECT * FROM events WHERE seq = ?', seq).toArray()[0];
  const event = row ? toEvent(d.st.conv.id!, row) : await eventFromPg(d.env, d.ctx, d.st.conv.id!, seq).catch(() => undefined);
  return event ? { ok: true, event, changed: false } : { ok: false, code: 'unavailable', message: 'Could not read the earlier event; retry' };
}

/** The event that made a user's current reaction with `emoji`: a repeated PUT or DELETE's answer. */
function reactionEvent(d: Deps, seq: number, emoji: string, userId: string): EventResult {
  const r = d.storage.sql
    .exec<{ active: number; event_seq: number; at: string }>('SELECT active, event_seq, at FROM reactions WHERE seq = ? AND emoji = ? AND user_id = ?', seq, emoji, userId)
    .toArray()[0];
  if (!r) return { ok: false, code: 'not_found', message: 'You have not reacted to this message with that emoji' };
  const kind = r.active ? 'reaction.added' : 'reaction.removed';
  return { ok: true, changed: false, event: { conversationId: d.st.conv.id!, seq: r.event_seq, kind, actorId: userId, createdAt: r.at, targetSeq: seq, emoji } };
}
