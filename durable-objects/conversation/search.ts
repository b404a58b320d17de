/**
 * Search indexing, after commit. The search consumer takes the entries that
 * change what search finds — a message, its edit, recall or expiry — and
 * publishes one QStash job per batch to `/internal/jobs/search` naming the
 * messages (dedup id `search:<conversation>:<last seq>`, so a republished
 * batch is one job). The job reads each message's current state back from
 * here (`searchState`) and writes it to the index, so a job that arrives
 * late or twice writes the truth, never an older version.
 */
import { isMessageEvent } from '../../protocol/events.ts';
import { isGone, type Message } from '../../protocol/messages.ts';
import { qstashClient } from '../../services/qstash.ts';
import type { MessageRecord } from '../../services/search.ts';
import { backoff, type Consumer } from './outbox.ts';
import { toMessage } from './rows.ts';
import type { MessageRow } from './schema.ts';
import type { Deps, Entry } from './state.ts';

/** The seq of the message an entry changes, if search cares. */
function targetOf(e: Entry): number | undefined {
  if ('message' in e.item) return e.item.message.seq;
  const ev = e.item.event;
  return isMessageEvent(ev) && ev.kind !== 'reaction.added' && ev.kind !== 'reaction.removed' ? ev.targetSeq : undefined;
}

export interface SearchJob {
  conversationId: string;
  seqs: number[];
}

export function searchConsumer(): Consumer {
  return {
    name: 'search',
    batch: 200,
    // Soon after the commit (the index is typically searchable within a second), yet late enough to batch a burst.
    delayMs: 100,
    backoffMs: backoff(500, 60_000),
    wants: (e) => targetOf(e) !== undefined,
    async run(d, entries) {
      const conversationId = d.st.conv.id!;
      const seqs = [...new Set(entries.map((e) => targetOf(e)!))];
      const job: SearchJob = { conversationId, seqs };
      await qstashClient(d.env).publishJSON({
        url: `${d.env.PUBLIC_URL}/internal/jobs/search`,
        body: job,
        deduplicationId: `search:${conversationId}:${entries.at(-1)!.seq}`,
        retries: 5,
      });
      return { ok: true };
    },
  };
}

/** What search should find of a message now: its words, or nothing (gone, or nothing to match). */
export function searchText(m: Message): string | undefined {
  if (isGone(m)) return undefined;
  if (m.type === 'text') return typeof m.content === 'string' ? m.content : undefined;
  const c = (m.content ?? {}) as { caption?: unknown; name?: unknown };
  const text = typeof c.caption === 'string' ? c.caption : typeof c.name === 'string' ? c.name : undefined;
  return text || undefined;
}

/**
 * The current record of each message (null: it must not be in the index), with the version it reflects;
 * `held: false` for one this object no longer holds (pruned after it reached Postgres): leave it be.
 */
export function searchState(d: Deps, seqs: number[]): Array<{ seq: number; held: boolean; version: number; record: MessageRecord | null }> {
  const conversationId = d.st.conv.id!;
  return seqs.map((seq) => {
    const row = d.storage.sql.exec<MessageRow>('SELECT * FROM messages WHERE seq = ?', seq).toArray()[0];
    // Not held here any more: pruned after reaching Postgres, where the reindex reads it; leave the index as it is.
    if (!row) return { seq, held: false, version: -1, record: null };
    const m = toMessage(conversationId, row);
    const text = searchText(m);
    const record: MessageRecord | null = text === undefined ? null : {
      objectID: `${conversationId}:${seq}`, conversationId, seq, senderId: m.senderId, type: m.type, text, createdAt: Date.parse(m.createdAt), version: row.version,
    };
    return { seq, held: true, version: row.version, record };
  });
}
