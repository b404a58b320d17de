/**
 * What the local push service (local/push.ts) has received, per Web Push
 * endpoint or FCM token: the device's queue of undelivered messages. A message
 * with the topic of one still queued replaces it (RFC 8030 §5.4; FCM's
 * `collapse_key`), moving to the end: newest last.
 */

export interface InboxEntry {
  /** The decrypted payload, JSON-parsed when it is JSON (Web Push), or the FCM message without its token. */
  payload: unknown;
  topic?: string;
  urgency?: string;
  /** Seconds, as the sender asked. */
  ttl: number;
  receivedAt: string;
  /** FCM only: the message name returned to the sender. */
  name?: string;
}

/** Messages kept per device; older ones fall off (a device that never comes back). */
const MAX_PER_DEVICE = 1000;

export class Inbox {
  readonly #queues = new Map<string, InboxEntry[]>();

  /** Makes `device` known (with nothing queued). */
  open(device: string): void {
    if (!this.#queues.has(device)) this.#queues.set(device, []);
  }

  has(device: string): boolean {
    return this.#queues.has(device);
  }

  add(device: string, entry: InboxEntry): void {
    const queue = this.#queues.get(device);
    if (!queue) throw new Error(`unknown device ${device}`);
    if (entry.topic !== undefined) {
      const older = queue.findIndex((e) => e.topic === entry.topic);
      if (older >= 0) queue.splice(older, 1);
    }
    queue.push(entry);
    if (queue.length > MAX_PER_DEVICE) queue.splice(0, queue.length - MAX_PER_DEVICE);
  }

  list(device: string): InboxEntry[] | undefined {
    return this.#queues.get(device);
  }

  /** The device took everything queued (what `DELETE /push-inbox` plays). */
  clear(device: string): void {
    if (this.#queues.has(device)) this.#queues.set(device, []);
  }
}
