/**
 * What a scenario measures against: Beehive, or the relay ceiling. Both give
 * conversations among numbered users and device sockets; a Room (flow.ts)
 * is built from them the same way for both, so one harness drives both.
 *
 * Beehive: users are registered on demand (in parallel batches: each costs a
 * scrypt hash), pairs become friends and get their single conversation,
 * groups are created by user 0. A device socket carries every conversation
 * of its user. Relay: a conversation is a room, a socket joins one room.
 */
import { Beehive, type BenchUser } from './beehive.ts';
import type { Room } from './flow.ts';
import { BenchSocket, closeAll } from './socket.ts';
import { mapLimit } from './timing.ts';

export interface Target {
  readonly name: 'beehive' | 'relay';
  /** Makes sure users 0..n-1 exist. */
  users(n: number): Promise<void>;
  /** A conversation among `members` (pool indices; a group's owner first). Created once per member list. */
  conversation(kind: 'single' | 'group', members: number[]): Promise<string>;
  /** A device socket of user `u` that receives `conversationId` (opened once per key, until closeDevices). */
  device(u: number, deviceId: string, conversationId: string): Promise<BenchSocket>;
  closeDevices(): Promise<void>;
}

/** A room of `members`: members[0] sends from device `bench-send`, the others receive on `bench-recv`. */
export async function room(target: Target, kind: 'single' | 'group', members: number[]): Promise<Room> {
  await target.users(Math.max(...members) + 1);
  const conversationId = await target.conversation(kind, members);
  const sockets = await mapLimit(members, 50, (u, i) => target.device(u, i === 0 ? 'bench-send' : 'bench-recv', conversationId));
  return { conversationId, sender: sockets[0]!, recipients: sockets.slice(1) };
}

export class BeehiveTarget implements Target {
  readonly name = 'beehive';
  readonly pool: BenchUser[] = [];
  private readonly convs = new Map<string, Promise<string>>();
  private readonly sockets = new Map<string, Promise<BenchSocket>>();
  /** Time spent registering users (setup, not measured). */
  registerMs = 0;
  readonly bh: Beehive;
  private readonly log: (msg: string) => void;

  constructor(bh: Beehive, log: (msg: string) => void) {
    this.bh = bh;
    this.log = log;
  }

  async users(n: number): Promise<void> {
    if (this.pool.length >= n) return;
    const t0 = performance.now();
    const missing = n - this.pool.length;
    this.log(`registering ${missing} users (20 in parallel)…`);
    this.pool.push(...(await this.bh.registerMany(missing, 20)));
    this.registerMs += performance.now() - t0;
  }

  conversation(kind: 'single' | 'group', members: number[]): Promise<string> {
    const key = `${kind}:${members.join(',')}`;
    let conv = this.convs.get(key);
    if (!conv) {
      const [owner, ...rest] = members.map((i) => this.pool[i]!);
      conv = kind === 'single' ? this.bh.single(owner!, rest[0]!) : this.bh.group(owner!, rest, `bench ${members.length}`);
      this.convs.set(key, conv);
    }
    return conv;
  }

  device(u: number, deviceId: string): Promise<BenchSocket> {
    const key = `${u}/${deviceId}`;
    let s = this.sockets.get(key);
    if (!s) {
      s = this.bh.device(this.pool[u]!, deviceId);
      this.sockets.set(key, s);
    }
    return s;
  }

  async closeDevices(): Promise<void> {
    const open = await Promise.allSettled(this.sockets.values());
    this.sockets.clear();
    await closeAll(open.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])));
  }
}

export class RelayTarget implements Target {
  readonly name = 'relay';
  private rooms = 0;
  private readonly convs = new Map<string, string>();
  private readonly sockets = new Map<string, Promise<BenchSocket>>();
  readonly url: string;

  constructor(url: string) {
    this.url = url;
  }

  async users(): Promise<void> {}

  async conversation(kind: 'single' | 'group', members: number[]): Promise<string> {
    const key = `${kind}:${members.join(',')}`;
    if (!this.convs.has(key)) this.convs.set(key, `room${++this.rooms}`);
    return this.convs.get(key)!;
  }

  device(u: number, deviceId: string, conversationId: string): Promise<BenchSocket> {
    const key = `${conversationId}/${u}/${deviceId}`;
    let s = this.sockets.get(key);
    if (!s) {
      s = BenchSocket.open(`${this.url}/room/${conversationId}`, { label: key });
      this.sockets.set(key, s);
    }
    return s;
  }

  async closeDevices(): Promise<void> {
    const open = await Promise.allSettled(this.sockets.values());
    this.sockets.clear();
    await closeAll(open.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])));
  }
}
