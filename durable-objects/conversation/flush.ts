/**
 * The Postgres consumer: the stream to Postgres, in batches. A message is
 * written in its current state (its number and version with it); an event
 * is appended and, when it changed a message, that message's new state is
 * written too — so an edit or recall of a message flushed long ago reaches
 * Postgres (rows only move to newer versions, pg.ts).
 *
 * A batch Postgres refuses for good (a data error, not an outage) is split
 * until the refused entry stands alone; that entry is quarantined — recorded
 * here and in Postgres for an operator, without its content — and the rest
 * flows on. An outage is retried with backoff, and sends go on meanwhile.
 */
import { writeLog } from '../../lib/log.ts';
import { isMessageEvent } from '../../protocol/events.ts';
import { messageAt } from './event-log.ts';
import { backoff, type Consumer } from './outbox.ts';
import { type FlushBatch, isPermanent, recordQuarantine, sqlState, writeBatch } from './pg.ts';
import type { MessageRow } from './schema.ts';
import type { Deps, Entry } from './state.ts';

export const PG_CONSUMER = 'pg';

function batchOf(d: Deps, entries: Entry[]): FlushBatch {
  const out: FlushBatch = { messages: [], events: [] };
  const seen = new Set<number>();
  const version = (seq: number) => d.storage.sql.exec<Pick<MessageRow, 'msg_no' | 'version'>>('SELECT msg_no, version FROM messages WHERE seq = ?', seq).toArray()[0];
  const addMessage = (seq: number) => {
    if (seen.has(seq)) return;
    seen.add(seq);
    // The entries just appended carry their number and version; older ones are read.
    const cached = d.st.recent.get(seq);
    if (cached && 'message' in cached.item && cached.msgNo !== undefined && cached.version !== undefined) {
      out.messages.push({ message: cached.item.message, msgNo: cached.msgNo, version: cached.version });
      return;
    }
    const message = messageAt(d.st, d.storage.sql, seq);
    const v = version(seq);
    if (message && v) out.messages.push({ message, msgNo: v.msg_no, version: v.version });
  };
  for (const e of entries) {
    if ('message' in e.item) addMessage(e.seq);
    else {
      out.events.push(e.item.event);
      if (isMessageEvent(e.item.event)) addMessage(e.item.event.targetSeq);
    }
  }
  return out;
}

async function writeIsolating(d: Deps, entries: Entry[]): Promise<void> {
  try {
    await writeBatch(d.env, d.ctx, batchOf(d, entries));
  } catch (err) {
    if (!isPermanent(err)) throw err;
    if (entries.length > 1) {
      const half = Math.ceil(entries.length / 2);
      await writeIsolating(d, entries.slice(0, half));
      await writeIsolating(d, entries.slice(half));
      return;
    }
    const [bad] = entries;
    const error = `postgres refused (SQLSTATE ${sqlState(err)})`;
    d.storage.sql.exec('INSERT OR REPLACE INTO quarantine (consumer, seq, error, at) VALUES (?, ?, ?, ?)', PG_CONSUMER, bad!.seq, error, Date.now());
    // Never the content: the SQLSTATE says what was wrong with it.
    writeLog('error', 'outbox.quarantined', { consumer: PG_CONSUMER, conversationId: d.st.conv.id, seq: bad!.seq, error });
    await recordQuarantine(d.env, d.ctx, d.st.conv.id!, bad!.seq, PG_CONSUMER, error).catch(() => {});
  }
}

export function pgConsumer(): Consumer {
  return {
    name: PG_CONSUMER,
    batch: 200,
    // Postgres is the durable copy, not the path a message takes: a flush every half second carries a burst at once.
    delayMs: 500,
    backoffMs: backoff(200, 30_000),
    async run(d, entries) {
      await writeIsolating(d, entries);
      return { ok: true };
    },
  };
}
