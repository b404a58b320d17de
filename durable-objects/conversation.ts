/**
 * ConversationDO — one per conversation (addressed by conversation id): the
 * single writer that orders its messages with a dense `seq`. The send path,
 * outbox and fan-out arrive with the messaging core.
 */
import { DurableObject } from 'cloudflare:workers';

export class ConversationDO extends DurableObject<Env> {
  async ping(): Promise<{ ok: true; kind: 'conversation' }> {
    return { ok: true, kind: 'conversation' };
  }
}
