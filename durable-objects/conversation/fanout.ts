/**
 * Fan-out: every entry of the stream to every member's UserDO, which pushes
 * it to their devices. One batch is in flight at a time, so each UserDO gets
 * the stream in order, and entries appended meanwhile go out together in the
 * next batch: one call per member per batch, however fast messages come.
 * Up to FANOUT_RPC_LIMIT recipients the calls are direct RPC; above it the
 * batch goes to QStash in chunks of members, signed back to
 * `/internal/jobs/deliver` (the seeds' hybrid model). UserDO.deliver treats
 * `seq` as the version, so a retried batch delivers nothing twice.
 *
 * Each member gets the entries of their time in the conversation: from the
 * seq they joined at to the seq they left at (so a leaver still hears of
 * their own leaving, and nothing after).
 */
import { metric } from '../../lib/metrics.ts';
import { isGone } from '../../protocol/messages.ts';
import { qstashClient } from '../../services/qstash.ts';
import type { Delivery } from '../contracts.ts';
import { backoff, type Consumer } from './outbox.ts';
import type { TargetInfo } from './schema.ts';
import type { ConversationState, Deps, Entry, Member } from './state.ts';

const QSTASH_CHUNK = 100;

/**
 * An entry as a member's UserDO gets it. Recalls and expiries say what the message was (for the unread
 * and mention counts); so does a message that is already gone when it goes out, from its tombstone
 * event (its last change).
 */
export function deliveryOf(sql: SqlStorage, e: Entry): Delivery {
  let target = e.target;
  if (!target && 'message' in e.item && isGone(e.item.message)) {
    const row = sql.exec<{ target: string | null }>('SELECT e.target FROM events e JOIN messages m ON e.seq = m.version WHERE m.seq = ?', e.seq).toArray()[0];
    if (row?.target) target = JSON.parse(row.target) as TargetInfo;
  }
  const { fileId: _f, ...counted } = target ?? { senderId: '' };
  return { item: e.item, ...(e.origin ? { origin: e.origin } : {}), ...(target ? { target: counted } : {}) };
}

const inWindow = (m: Member, seq: number) => m.joinedSeq <= seq && (m.leftSeq === null || m.leftSeq >= seq);

/** Members who get at least one of these entries, with the part of the batch that is theirs when it is not all of it. */
export function recipients(st: ConversationState, entries: Entry[]): { all: string[]; partial: Map<string, [number, number]> } {
  const first = entries[0]!.seq;
  const last = entries.at(-1)!.seq;
  const all: string[] = [];
  const partial = new Map<string, [number, number]>();
  for (const m of st.members.values()) {
    if (!entries.some((e) => inWindow(m, e.seq))) continue;
    all.push(m.userId);
    const from = Math.max(first, m.joinedSeq);
    const to = m.leftSeq === null ? last : Math.min(last, m.leftSeq);
    if (from !== first || to !== last) partial.set(m.userId, [from, to]);
  }
  return { all, partial };
}

export function fanoutConsumer(): Consumer {
  return {
    name: 'fanout',
    batch: 100,
    delayMs: 0,
    lazyCursor: true,
    backoffMs: backoff(500, 60_000),
    async run(d: Deps, entries: Entry[]) {
      const conversationId = d.st.conv.id!;
      const deliveries = entries.map((e) => deliveryOf(d.storage.sql, e));
      const { all, partial } = recipients(d.st, entries);
      const slice = (userId: string) => {
        const w = partial.get(userId);
        return w ? deliveries.filter((x) => seqOf(x) >= w[0] && seqOf(x) <= w[1]) : deliveries;
      };
      const viaQStash = all.length > Number(d.env.FANOUT_RPC_LIMIT);
      metric(d.env, 'fanout', { mode: viaQStash ? 'qstash' : 'rpc', members: all.length });
      if (viaQStash) {
        const batches = [];
        for (let i = 0; i < all.length; i += QSTASH_CHUNK) {
          const userIds = all.slice(i, i + QSTASH_CHUNK);
          const windows = Object.fromEntries(userIds.filter((u) => partial.has(u)).map((u) => [u, partial.get(u)!]));
          batches.push({
            url: `${d.env.PUBLIC_URL}/internal/jobs/deliver`,
            body: JSON.stringify({ conversationId, deliveries, userIds, windows }),
            headers: { 'content-type': 'application/json' },
            deduplicationId: `deliver:${conversationId}:${entries.at(-1)!.seq}:${i}`,
          });
        }
        await qstashClient(d.env).batch(batches);
        return { ok: true };
      }
      // An actor's own UserDO took its entries from the answer (selfDelivered): it is not called for them.
      const skipped = new Set(entries.filter((e) => e.selfDelivered).map((e) => e.seq));
      const theirs = (userId: string) => slice(userId).filter((x) => !(skipped.has(seqOf(x)) && actorOfDelivery(x) === userId));
      const calls = all.map((userId) => [userId, theirs(userId)] as const).filter(([, list]) => list.length > 0);
      const results = await Promise.allSettled(calls.map(([userId, list]) => d.env.USERS.getByName(userId).deliver(conversationId, list)));
      const failed = results.filter((r) => r.status === 'rejected');
      if (failed.length === 0) return { ok: true };
      return { ok: false, error: `${failed.length} of ${calls.length} deliveries failed: ${String((failed[0] as PromiseRejectedResult).reason)}` };
    },
  };
}

const seqOf = (x: Delivery) => ('message' in x.item ? x.item.message.seq : x.item.event.seq);
const actorOfDelivery = (x: Delivery) => ('message' in x.item ? x.item.message.senderId : x.item.event.actorId);
