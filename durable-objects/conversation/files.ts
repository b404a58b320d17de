/**
 * The file-reference consumer: once a recall or an expiry of a message with
 * a file has reached Postgres (it follows the Postgres consumer's cursor),
 * the conversation's grant on the file goes unless another live message
 * holds it, and blobs nothing refers to any more leave R2
 * (services/files/messages.ts `releaseFileRefs`, idempotent).
 */
import { releaseFileRefs } from '../../services/files/messages.ts';
import { PG_CONSUMER } from './flush.ts';
import { backoff, type Consumer } from './outbox.ts';
import type { Entry } from './state.ts';

const releases = (e: Entry): boolean =>
  'event' in e.item && (e.item.event.kind === 'message.recalled' || e.item.event.kind === 'message.expired') && Boolean(e.target?.fileId);

export function filesConsumer(): Consumer {
  return {
    name: 'files',
    batch: 200,
    delayMs: 0,
    backoffMs: backoff(1_000, 300_000),
    upTo: (outbox) => outbox.done(PG_CONSUMER),
    wants: releases,
    async run(d, entries) {
      await releaseFileRefs(d.env, d.ctx, { conversationId: d.st.conv.id!, fileIds: entries.map((e) => e.target!.fileId!) });
      return { ok: true };
    },
  };
}
