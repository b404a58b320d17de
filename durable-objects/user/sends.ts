/**
 * The sender's side of the send path. Every send — device socket, REST, and
 * (by borrowing tokens) the live view — passes the user's token bucket here,
 * then goes to the conversation's single writer. Sends to one conversation
 * queue behind the call in flight and go together in the next call: a burst
 * is one RPC, one commit and one fan-out instead of one each, while a lone
 * message goes at once.
 */
import type { SendInput } from '../../protocol/messages.ts';
import type { Failure, Origin, SendResult } from '../contracts.ts';
import type { TokenBucket } from '../kit/token-bucket.ts';

const BATCH_MAX = 100;

interface Pending {
  input: SendInput;
  origin: Origin;
  resolve(r: SendResult): void;
}

export class SendQueue {
  private readonly queues = new Map<string, Pending[]>();
  private readonly bucket: TokenBucket;
  private readonly call: (conversationId: string, inputs: SendInput[], origin: Origin) => Promise<SendResult[]>;

  constructor(bucket: TokenBucket, call: (conversationId: string, inputs: SendInput[], origin: Origin) => Promise<SendResult[]>) {
    this.bucket = bucket;
    this.call = call;
  }

  send(conversationId: string, input: SendInput, origin: Origin): Promise<SendResult> {
    if (!this.bucket.take()) return Promise.resolve({ ok: false, code: 'rate_limited', message: 'Sending too fast; slow down' });
    return new Promise((resolve) => {
      const queue = this.queues.get(conversationId);
      if (queue) return void queue.push({ input, origin, resolve });
      this.queues.set(conversationId, [{ input, origin, resolve }]);
      void this.drain(conversationId);
    });
  }

  /** Up to `n` tokens for a live view to spend (0 when the user is sending too fast). */
  lease(n: number): number {
    let granted = 0;
    while (granted < n && this.bucket.take()) granted++;
    return granted;
  }

  private async drain(conversationId: string): Promise<void> {
    const queue = this.queues.get(conversationId)!;
    while (queue.length) {
      // One call carries one origin: the longest run of sends from the same device.
      const origin = queue[0]!.origin;
      let n = 1;
      while (n < queue.length && n < BATCH_MAX && queue[n]!.origin.deviceId === origin.deviceId) n++;
      const batch = queue.splice(0, n);
      let results: SendResult[];
      try {
        results = await this.call(conversationId, batch.map((p) => p.input), origin);
      } catch (err) {
        const failure: Failure = { ok: false, code: 'unavailable', message: `The conversation did not answer; retry with the same clientMsgId (${String(err)})` };
        results = batch.map(() => failure);
      }
      batch.forEach((p, i) => p.resolve(results[i]!));
    }
    this.queues.delete(conversationId);
  }
}
