/**
 * The send path's part in the ConversationDO: what a batch of sends from one
 * member needs from outside (a forward's source, the kind of entry a reply
 * names, a media message's file), then — synchronously — the dedupe, the
 * rules and the one append for the whole batch: one commit, one fan-out.
 */
import { writeLog } from '../../lib/log.ts';
import type { Draft, Message, SendInput } from '../../protocol/messages.ts';
import { metric } from '../../lib/metrics.ts';
import { prepareFileMessage } from '../../services/files/messages.ts';
import type { Failure, ForwardSource, Origin, SendResult } from '../contracts.ts';
import { notMember, post, type SeqKind } from './commands.ts';
import { append, messageAt } from './event-log.ts';
import { kindOf } from './history.ts';
import type { Deps, Entry } from './state.ts';

type Prepared = { ok: true; draft: Draft; replyTo: SeqKind } | Failure;

/** Where a forward's source comes from: this conversation, or another one the sender is in. */
export type SourceOf = (conversationId: string, seq: number) => Promise<ForwardSource>;

/** Sends from one member, in order; `commit` runs the after-commit work (broadcast, outbox). */
export async function sendBatch(d: Deps, commit: (entries: Entry[]) => void, sourceOf: SourceOf, senderId: string, inputs: SendInput[], origin: Origin): Promise<SendResult[]> {
  if (!d.st.member(senderId)) return inputs.map(() => notMember(d.st));
  const started = Date.now();
  // A retry is answered by the original whatever its preparation says (its forward source may be gone by now).
  const prepared = await Promise.all(inputs.map((input) => prepare(d, sourceOf, senderId, input)));
  // From here to the append: no await, so nothing interleaves.
  const results: Array<SendResult | undefined> = [];
  const batch: Array<{ index: number; draft: Draft }> = [];
  const inBatch = new Map<string, number>();
  inputs.forEach((input, i) => {
    const dup = duplicate(d, senderId, input.clientMsgId);
    if (dup) return void (results[i] = dup);
    if (inBatch.has(input.clientMsgId)) return; // answered below, like its twin
    const p = prepared[i]!;
    if (!p.ok) return void (results[i] = p);
    const refused = post(d.st, senderId, p.draft, p.replyTo);
    if (refused) return void (results[i] = refused);
    inBatch.set(input.clientMsgId, i);
    batch.push({ index: i, draft: p.draft });
  });
  const entries = batch.length ? append(d.st, d.storage, batch.map(({ draft }) => ({ message: draft, senderId, origin: origin.deviceId, selfDelivered: origin.selfDelivered }))) : [];
  entries.forEach((e, k) => {
    const message = (e.item as { message: Message }).message;
    metric(d.env, 'message', { type: message.type, ms: Date.now() - started });
    results[batch[k]!.index] = { ok: true, duplicate: false, message, ack: { clientMsgId: message.clientMsgId, conversationId: message.conversationId, seq: message.seq, id: message.id, createdAt: message.createdAt } };
  });
  inputs.forEach((input, i) => {
    if (results[i]) return;
    const first = results[inBatch.get(input.clientMsgId)!];
    results[i] = first && first.ok ? { ...first, duplicate: true } : first;
  });
  commit(entries);
  return results as SendResult[];
}

/** The original answer to a repeated clientMsgId, if there was one. */
function duplicate(d: Deps, senderId: string, clientMsgId: string): SendResult | undefined {
  const dup = d.storage.sql
    .exec<{ seq: number; id: string; created_at: string }>('SELECT seq, id, created_at FROM dedupe WHERE sender_id = ? AND client_msg_id = ?', senderId, clientMsgId)
    .toArray()[0];
  if (!dup) return undefined;
  const ack = { clientMsgId, conversationId: d.st.conv.id!, seq: dup.seq, id: dup.id, createdAt: dup.created_at };
  const message = messageAt(d.st, d.storage.sql, dup.seq) ?? { ...ack, senderId, type: 'text' as const, content: null };
  return { ok: true, ack, message, duplicate: true };
}

/**
 * What a send needs from outside before its rules can run: a forward's source, the kind of entry it
 * replies to, and for a media message the file (the sender may read it, its type fits, and the members
 * may read it from now on: services/files).
 */
async function prepare(d: Deps, sourceOf: SourceOf, senderId: string, input: SendInput): Promise<Prepared> {
  try {
    let draft: Draft;
    let replyTo: SeqKind = 'none';
    if (input.forwardOf) {
      const { conversationId, seq } = input.forwardOf;
      const source = await sourceOf(conversationId, seq);
      if (!source.ok) return source;
      const m = source.message;
      draft = { clientMsgId: input.clientMsgId, type: m.type, content: m.content!, ...(m.fileId ? { fileId: m.fileId } : {}), forwardedFrom: { conversationId, seq, senderId: m.senderId } };
    } else {
      const { forwardOf: _f, ...composed } = input;
      draft = composed;
      if (draft.replyToSeq !== undefined) replyTo = await kindOf(d, draft.replyToSeq);
    }
    if (draft.type !== 'text' && draft.fileId && d.st.member(senderId)) {
      const file = await prepareFileMessage(d.env, d.ctx, { senderId, conversationId: d.st.conv.id!, fileId: draft.fileId, msgType: draft.type });
      if (!file.ok) return file;
      // Image dimensions come from the file's header, not from the client.
      const { width, height } = file.file;
      if (draft.type === 'image' && width && height && typeof draft.content === 'object' && draft.content !== null) draft = { ...draft, content: { ...draft.content, width, height } };
    }
    return { ok: true, draft, replyTo };
  } catch (err) {
    writeLog('warn', 'send.prepare_failed', { conversationId: d.st.conv.id, error: String(err) });
    return { ok: false, code: 'unavailable', message: 'Could not check this message right now; retry' };
  }
}
