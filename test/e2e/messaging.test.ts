/**
 * The messaging core end to end: real WebSocket clients against wrangler dev.
 * Each test proves one of the invariants of ARCHITECTURE.md.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { api, befriend, createGroup, register, type Account } from './client.ts';
import { Socket, type Frame } from './ws-client.ts';

const open: Socket[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function connect(acct: Account, deviceId = 'd1'): Promise<Socket> {
  const s = await Socket.connect({ token: acct.accessToken, deviceId });
  open.push(s);
  return s;
}

async function group(owner: Account, members: Account[], name = 'team'): Promise<string> {
  return (await createGroup(owner, members, name)).id as string;
}

let n = 0;
function sendFrame(conversationId: string, text: string, clientMsgId = `c${++n}-${Date.now()}`): Frame {
  return { type: 'message.send', conversationId, clientMsgId, msgType: 'text', content: text };
}

/** Waits for `count` message.new frames of a conversation and returns their seqs in arrival order. */
async function receive(s: Socket, conversationId: string, count: number, ms = 10_000): Promise<number[]> {
  const seqs: number[] = [];
  while (seqs.length < count) {
    const f = await s.next((x) => x.type === 'message.new' && x.message.conversationId === conversationId, ms);
    seqs.push(f.message.seq);
  }
  return seqs;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('send path', () => {
  it('acks the sending device and delivers to every other device of every member', async () => {
    const [a, b] = await Promise.all([register(), register()]);
    const conv = await group(a, [b]);
    const [a1, a2, b1] = await Promise.all([connect(a, 'a-phone'), connect(a, 'a-laptop'), connect(b, 'b-phone')]);
    a1.send(sendFrame(conv, 'hello'));
    const ack = await a1.nextOfType('message.ack');
    expect(ack).toMatchObject({ conversationId: conv, seq: 1 });
    expect(ack.id).toBeTruthy();
    const [onLaptop, onB] = await Promise.all([a2.nextOfType('message.new'), b1.nextOfType('message.new')]);
    for (const f of [onLaptop, onB]) expect(f.message).toMatchObject({ id: ack.id, seq: 1, senderId: a.user.id, type: 'text', content: 'hello' });
    expect(await a1.drain('message.new')).toEqual([]);
  });

  it('a retried send (same clientMsgId) returns the original ack and creates nothing', async () => {
    const [a, b] = await Promise.all([register(), register()]);
    const conv = await group(a, [b]);
    const [a1, b1] = await Promise.all([connect(a), connect(b)]);
    const frame = sendFrame(conv, 'once');
    a1.send(frame);
    const first = await a1.nextOfType('message.ack');
    a1.send(frame);
    const second = await a1.nextOfType('message.ack');
    expect(second).toEqual(first);
    const rest = await api('POST', `/api/v1/conversations/${conv}/messages`, { token: a.accessToken, body: { clientMsgId: frame.clientMsgId, type: 'text', content: 'once' } });
    expect(rest.status).toBe(201);
    expect(rest.body.seq).toBe(first.seq);
    await b1.nextOfType('message.new');
    expect(await b1.drain('message.new')).toEqual([]);
    const history = await api('GET', `/api/v1/conversations/${conv}/messages`, { token: b.accessToken });
    expect(history.body.items.map((m: any) => m.seq)).toEqual([1]);
  });

  it('orders a burst of concurrent senders densely: every device sees 1..N, no gaps, no duplicates', async () => {
    const people = await Promise.all(range(1, 4).map(() => register()));
    const conv = await group(people[0]!, people.slice(1));
    const sockets = await Promise.all(people.map((p) => connect(p)));
    const perSender = 20;
    sockets.forEach((s, i) => {
      for (let k = 0; k < perSender; k++) s.send(sendFrame(conv, `from ${i}: ${k}`, `burst-${i}-${k}`));
    });
    const total = perSender * people.length;
    const received = await Promise.all(sockets.map((s) => receive(s, conv, total - perSender, 20_000)));
    const acks = await Promise.all(sockets.map(async (s) => Promise.all(range(1, perSender).map(() => s.nextOfType('message.ack', 20_000)))));
    const ackedSeqs = acks.flat().map((a) => a.seq).sort((x, y) => x - y);
    expect(ackedSeqs).toEqual(range(1, total));
    for (const [i, seqs] of received.entries()) {
      // Each device gets everyone else's messages in increasing seq order; with its own acks that is all of 1..N.
      expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
      expect(new Set(seqs).size).toBe(seqs.length);
      const own = acks[i]!.map((a) => a.seq);
      expect([...seqs, ...own].sort((x, y) => x - y)).toEqual(range(1, total));
    }
    // Each sender's own messages keep their send order.
    const history = await api('GET', `/api/v1/conversations/${conv}/messages?limit=100`, { token: people[0]!.accessToken });
    expect(history.body.items.map((m: any) => m.seq)).toEqual(range(1, total));
    for (let i = 0; i < people.length; i++) {
      const mine = history.body.items.filter((m: any) => m.senderId === people[i]!.user.id).map((m: any) => m.content);
      expect(mine).toEqual(range(0, perSender - 1).map((k) => `from ${i}: ${k}`));
    }
  });
});

describe('sync and receipts', () => {
  it('a device that was offline gets exactly what it missed, in order, then sync.done', async () => {
    const [a, b] = await Promise.all([register(), register()]);
    const conv = await group(a, [b]);
    const a1 = await connect(a);
    a1.send(sendFrame(conv, 'seen'));
    await a1.nextOfType('message.ack');
    const b1 = await connect(b);
    const first = await b1.sync();
    expect(first.messages.map((m) => m.message.seq)).toEqual([1]);
    expect(first.done.cursors[conv]).toBe(1);
    await b1.close();

    for (let i = 0; i < 5; i++) {
      a1.send(sendFrame(conv, `missed ${i}`));
      await a1.nextOfType('message.ack');
    }
    const b2 = await connect(b, 'd2');
    const { messages, done } = await b2.sync({ [conv]: 1 });
    expect(messages.map((m) => m.message.seq)).toEqual([2, 3, 4, 5, 6]);
    expect(messages.map((m) => m.message.content)).toEqual(range(0, 4).map((i) => `missed ${i}`));
    expect(done.cursors[conv]).toBe(6);
  });

  it('without a cursor, sync replays the unread messages; reading moves the cursor forward only', async () => {
    const [a, b] = await Promise.all([register(), register()]);
    const conv = await group(a, [b]);
    const a1 = await connect(a);
    for (let i = 0; i < 3; i++) {
      a1.send(sendFrame(conv, `m${i}`));
      await a1.nextOfType('message.ack');
    }
    const list = await api('GET', '/api/v1/conversations', { token: b.accessToken });
    const item = list.body.items.find((c: any) => c.id === conv);
    expect(item).toMatchObject({ lastSeq: 3, unreadCount: 3 });
    expect(item.lastMessage.content).toBe('m2');

    const b1 = await connect(b);
    b1.send({ type: 'message.read', conversationId: conv, seq: 2 });
    const receipt = await a1.nextOfType('receipt.read');
    expect(receipt).toMatchObject({ conversationId: conv, userId: b.user.id, seq: 2 });
    expect((await api('POST', `/api/v1/conversations/${conv}/read`, { token: b.accessToken, body: { seq: 1 } })).status).toBe(204);
    const after = await api('GET', '/api/v1/conversations', { token: b.accessToken });
    expect(after.body.items.find((c: any) => c.id === conv).unreadCount).toBe(1);

    const b2 = await connect(b, 'other');
    const { messages } = await b2.sync();
    expect(messages.map((m) => m.message.seq)).toEqual([3]);
  });

  it('typing reaches the other members and is never stored', async () => {
    const [a, b] = await Promise.all([register(), register()]);
    const conv = await group(a, [b]);
    const [a1, b1] = await Promise.all([connect(a), connect(b)]);
    a1.send({ type: 'typing', conversationId: conv });
    expect(await b1.nextOfType('typing')).toEqual({ type: 'typing', conversationId: conv, userId: a.user.id });
    expect(await a1.drain('typing')).toEqual([]);
    const history = await api('GET', `/api/v1/conversations/${conv}/messages`, { token: a.accessToken });
    expect(history.body.items).toEqual([]);
  });
});

describe('who may read and write', () => {
  it('a non-member can neither send, read, sync nor watch', async () => {
    const [a, b, c] = await Promise.all([register(), register(), register()]);
    const conv = await group(a, [b]);
    const c1 = await connect(c);
    const frame = sendFrame(conv, 'intruder');
    c1.send(frame);
    expect(await c1.nextOfType('error')).toMatchObject({ code: 'not_member', ref: frame.clientMsgId });
    const rest = await api('POST', `/api/v1/conversations/${conv}/messages`, { token: c.accessToken, body: { clientMsgId: 'x1', type: 'text', content: 'hi' } });
    expect(rest.status).toBe(403);
    expect(rest.body.error.code).toBe('not_member');
    expect((await api('GET', `/api/v1/conversations/${conv}/messages`, { token: c.accessToken })).status).toBe(403);
    const { messages } = await c1.sync({ [conv]: 0 });
    expect(messages).toEqual([]);
    await expect(Socket.open({ token: c.accessToken, path: `/api/v1/conversations/${conv}/ws` })).rejects.toThrow(/403/);
    const history = await api('GET', `/api/v1/conversations/${conv}/messages`, { token: a.accessToken });
    expect(history.body.items).toEqual([]);
  });

  it('a member who left receives nothing more and reads nothing', async () => {
    const [a, b, c] = await Promise.all([register(), register(), register()]);
    const conv = await group(a, [b, c]);
    const c1 = await connect(c);
    expect((await api('POST', `/api/v1/conversations/${conv}/leave`, { token: c.accessToken, body: {} })).status).toBe(204);
    const a1 = await connect(a);
    a1.send(sendFrame(conv, 'after c left'));
    await a1.nextOfType('message.ack');
    expect(await c1.drain('message.new', 500)).toEqual([]);
    expect((await api('GET', `/api/v1/conversations/${conv}/messages`, { token: c.accessToken })).status).toBe(403);
  });

  it('the live-view socket shows a conversation to its members', async () => {
    const [a, b] = await Promise.all([register(), register()]);
    const conv = await group(a, [b]);
    const view = await Socket.open({ token: b.accessToken, path: `/api/v1/conversations/${conv}/ws` });
    open.push(view);
    const a1 = await connect(a);
    a1.send(sendFrame(conv, 'live'));
    expect((await view.nextOfType('message.new')).message).toMatchObject({ seq: 1, content: 'live' });
    view.send(sendFrame(conv, 'from the live view'));
    expect(await view.nextOfType('message.ack')).toMatchObject({ seq: 2 });
    expect((await a1.nextOfType('message.new')).message.content).toBe('from the live view');
  });
});

describe('bad frames and bad sockets', () => {
  it('malformed, unknown, invalid and oversized frames get error frames and the socket stays usable', async () => {
    const [a, b] = await Promise.all([register(), register()]);
    const conv = await group(a, [b]);
    const s = await connect(a);
    s.send('{not json');
    expect(await s.nextOfType('error')).toMatchObject({ code: 'invalid_json' });
    s.send({ type: 'teleport' });
    expect(await s.nextOfType('error')).toMatchObject({ code: 'unknown_frame' });
    s.send({ type: 'message.send', conversationId: conv, clientMsgId: 'bad-1', msgType: 'text', content: 42 });
    expect(await s.nextOfType('error')).toMatchObject({ code: 'validation_failed', ref: 'bad-1' });
    s.send(sendFrame(conv, 'x'.repeat(4001), 'too-long'));
    expect(await s.nextOfType('error')).toMatchObject({ code: 'validation_failed', ref: 'too-long' });
    s.send({ type: 'message.send', conversationId: conv, clientMsgId: 'img-1', msgType: 'image', content: { caption: 'no file' } });
    expect(await s.nextOfType('error')).toMatchObject({ code: 'validation_failed', ref: 'img-1' });
    s.send(sendFrame(conv, 'y'.repeat(70 * 1024), 'huge'));
    expect(await s.nextOfType('error')).toMatchObject({ code: 'too_large' });
    s.send({ type: 'ping' });
    expect(await s.nextOfType('pong')).toEqual({ type: 'pong' });
    s.send(sendFrame(conv, 'still fine'));
    expect(await s.nextOfType('message.ack')).toMatchObject({ seq: 1 });
  });

  it('refuses sockets without valid credentials, and foreign origins', async () => {
    const a = await register();
    await expect(Socket.open({})).rejects.toThrow(/401/);
    await expect(Socket.open({ token: 'forged.token.here' })).rejects.toThrow(/401/);
    await expect(Socket.open({ token: a.accessToken, origin: 'https://evil.example' })).rejects.toThrow(/403/);
  });

  it('a ticket opens one socket, once', async () => {
    const a = await register();
    const { body } = await api('POST', '/api/v1/auth/ws-ticket', { token: a.accessToken });
    const s = await Socket.open({ ticket: body.ticket });
    open.push(s);
    s.send({ type: 'ping' });
    expect(await s.nextOfType('pong')).toEqual({ type: 'pong' });
    await expect(Socket.open({ ticket: body.ticket })).rejects.toThrow(/401/);
  });

  it('logging out closes the sockets of that session', async () => {
    const a = await register();
    const s = await connect(a);
    expect((await api('POST', '/api/v1/auth/logout', { token: a.accessToken, body: {} })).status).toBe(204);
    const deadline = Date.now() + 5000;
    while (!s.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(s.closed?.code).toBe(4001);
  });

  it('rate-limits sends per user with an error frame', async () => {
    const [a, b] = await Promise.all([register(), register()]);
    const conv = await group(a, [b]);
    const s = await connect(a);
    // The test stack allows 20/s with bursts of 60: 200 frames empty the bucket even when a busy machine takes seconds over them.
    for (let i = 0; i < 200; i++) s.send(sendFrame(conv, `flood ${i}`, `flood-${i}`));
    const limited = await s.next((f) => f.type === 'error' && f.code === 'rate_limited', 10_000);
    expect(limited.ref).toMatch(/^flood-/);
  });
});

describe('large groups', () => {
  it('above the RPC threshold, delivery goes through signed QStash jobs and still reaches everyone in order', async () => {
    const people = await Promise.all(range(1, 7).map(() => register()));
    const conv = await group(people[0]!, people.slice(1), 'big');
    const sockets = await Promise.all(people.slice(1).map((p) => connect(p)));
    const sender = await connect(people[0]!);
    for (let i = 0; i < 5; i++) sender.send(sendFrame(conv, `big ${i}`));
    const seqs = await Promise.all(sockets.map((s) => receive(s, conv, 5, 20_000)));
    for (const s of seqs) expect(s).toEqual([1, 2, 3, 4, 5]);
  });

  it('the job endpoint refuses unsigned or tampered deliveries', async () => {
    const res = await api('POST', '/internal/jobs/deliver', { body: { message: {}, userIds: ['x'] }, headers: { 'upstash-signature': 'bad' } });
    expect(res.status).toBe(401);
    expect((await api('POST', '/internal/jobs/deliver', { body: { message: {}, userIds: ['x'] } })).status).toBe(401);
  });
});

describe('presence and notifications', () => {
  it('first device online and last device offline reach online friends, Redis and the friend list', async () => {
    const [a, b] = await Promise.all([register(), register()]);
    await befriend(a, b);
    const a1 = await connect(a);
    const b1 = await connect(b, 'b-phone');
    expect(await a1.next((f) => f.type === 'presence' && f.userId === b.user.id)).toMatchObject({ online: true });
    const b2 = await connect(b, 'b-laptop');
    const query = await api('POST', '/api/v1/presence/query', { token: a.accessToken, body: { userIds: [b.user.id] } });
    expect(query.body.presence[b.user.id].online).toBe(true);
    const friends = await api('GET', '/api/v1/friends', { token: a.accessToken });
    expect(friends.body.items.find((f: any) => f.user.id === b.user.id).online).toBe(true);

    await b1.close(); // another device is still online: nobody is told anything
    expect(await a1.drain('presence', 500)).toEqual([]);
    await b2.close();
    const offline = await a1.next((f) => f.type === 'presence' && f.userId === b.user.id);
    expect(offline.online).toBe(false);
    expect(Date.parse(offline.lastSeenAt)).toBeGreaterThan(Date.now() - 60_000);
    const after = await api('POST', '/api/v1/presence/query', { token: a.accessToken, body: { userIds: [b.user.id] } });
    expect(after.body.presence[b.user.id]).toEqual({ online: false, lastSeenAt: offline.lastSeenAt });
  });

  it('a notification for a user with no device online waits for their next sync', async () => {
    const [a, b] = await Promise.all([register(), register()]);
    const sent = await api('POST', '/api/v1/friends/requests', { token: a.accessToken, body: { toUserId: b.user.id, message: 'hi' } });
    expect(sent.status).toBe(201);
    const b1 = await Socket.open({ token: b.accessToken, deviceId: 'd1' });
    open.push(b1);
    expect(await b1.drain('friend.request', 300)).toEqual([]); // nothing before sync
    await b1.sync();
    const queued = b1.frames.find((f) => f.type === 'friend.request');
    expect(queued?.request.id).toBe(sent.body.request.id);
    const b2 = await Socket.open({ token: b.accessToken, deviceId: 'd2' });
    open.push(b2);
    await b2.sync();
    expect(b2.frames.filter((f) => f.type === 'friend.request')).toEqual([]); // delivered once
  });

  it('a new conversation is announced to its members’ devices', async () => {
    const [a, b] = await Promise.all([register(), register()]);
    const b1 = await connect(b);
    const conv = await group(a, [b], 'announced');
    const frame = await b1.nextOfType('conversation.updated');
    expect(frame.conversation).toMatchObject({ id: conv, kind: 'group', name: 'announced' });
  });
});
