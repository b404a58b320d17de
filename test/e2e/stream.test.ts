/**
 * The conversation stream end to end (API.md § The conversation stream):
 * edits, recalls, reactions, forwards, replies, @all, membership and
 * settings events, receipts and disappearing messages — over REST and over
 * both sockets — each rule with its refusal, its code, and nothing changed;
 * current state and counters everywhere; one cursor that syncs it all.
 *
 * The test stack sets RECALL_WINDOW_SECONDS to 3 (test/setup/stack.ts) so
 * the window can be waited out; the edit window keeps its default.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { pool, rowsWhen } from './backstage.ts';
import { type Account, api, befriend, createGroup, eventually, expectError, users } from './client.ts';
import { C, edit, forward, history, listItem, patch, react, read, recall, say, send, shape, stream } from './conversation-api.ts';
import { bytes, pngHeader, uploadFile } from './files-support.ts';
import { type Frame, isEntry, itemOf, Socket } from './ws-client.ts';

const RECALL_WINDOW_MS = 3000;

const open: Socket[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

const group = async (owner: Account, members: Account[]) => (await createGroup(owner, members, 'stream')).id as string;

async function device(who: Account, deviceId = 'd1'): Promise<Socket> {
  const s = await Socket.connect({ token: who.accessToken, deviceId });
  open.push(s);
  return s;
}

async function liveView(who: Account, conv: string): Promise<Socket> {
  const s = await Socket.open({ token: who.accessToken, path: `${C}/${conv}/ws` });
  open.push(s);
  return s;
}

const frameShape = (f: Frame) => shape(itemOf(f));

/** Runs `refusals`, then checks that the stream and the history (as `who` reads them) are as they were. */
async function changesNothing(who: Account, conv: string, refusals: () => Promise<void>): Promise<void> {
  const before = { stream: await stream(who, conv), history: await history(who, conv) };
  await refusals();
  expect({ stream: await stream(who, conv), history: await history(who, conv) }).toEqual(before);
}

/** The next `count` stream frames of `conv` on `s`, in arrival order. */
async function entries(s: Socket, conv: string, count: number, ms = 10_000): Promise<Frame[]> {
  const out: Frame[] = [];
  while (out.length < count) out.push(await s.next((f) => isEntry(f) && (f.message ?? f.event).conversationId === conv, ms));
  return out;
}

const sleepUntil = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));

describe('edit', () => {
  it('the sender edits their text; others, media, events and bad text are refused and change nothing', async () => {
    const [owner, alice, bob] = await users(3);
    const conv = await group(owner, [alice, bob]);
    await say(alice, conv, 'helo'); // 1
    const picture = (await uploadFile(alice, pngHeader(8, 8), 'a.png', 'image/png')).body;
    await say(alice, conv, { caption: 'a picture' }, { type: 'image', fileId: picture.id }); // 2
    await changesNothing(owner, conv, async () => {
      expectError(await edit(bob, conv, 1, 'mine now'), 403, 'forbidden');
      expectError(await edit(owner, conv, 1, 'owners cannot either'), 403, 'forbidden');
      expectError(await edit(alice, conv, 2, 'not text'), 400, 'validation_failed');
      expectError(await edit(alice, conv, 1, '   '), 400, 'validation_failed');
      expectError(await edit(alice, conv, 1, 'x'.repeat(4001)), 400, 'validation_failed');
      expectError(await edit(alice, conv, 3, 'nothing there'), 404, 'not_found');
      expectError(await api('PATCH', `${C}/${conv}/messages/1`, { token: alice.accessToken, body: { content: 'x', extra: 1 } }), 400, 'validation_failed');
    });
    const res = await edit(alice, conv, 1, 'hello');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ conversationId: conv, seq: 3, kind: 'message.edited', actorId: alice.user.id, targetSeq: 1, content: 'hello', editedAt: expect.any(String), createdAt: expect.any(String) });
    expect((await history(bob, conv))[0]).toMatchObject({ seq: 1, content: 'hello', editedAt: res.body.editedAt });
    const twice = await edit(alice, conv, 1, 'hello, world');
    expect(twice.body).toMatchObject({ seq: 4, targetSeq: 1, content: 'hello, world' });
    expect((await stream(owner, conv)).items.map(shape)).toEqual(['1:message', '2:message', '3:message.edited', '4:message.edited']);
  });
});

describe('recall', () => {
  it('the sender within RECALL_WINDOW_SECONDS; a repeat returns the same event; the message stays as a tombstone', async () => {
    const [owner, alice, bob] = await users(3);
    const conv = await group(owner, [alice, bob]);
    const plan = (await uploadFile(alice, bytes(200), 'plan.pdf', 'application/pdf')).body;
    await say(alice, conv, { name: 'plan.pdf' }, { type: 'file', fileId: plan.id }); // 1
    await changesNothing(owner, conv, async () => {
      expectError(await recall(bob, conv, 1), 403, 'forbidden');
      expectError(await recall(alice, conv, 9), 404, 'not_found');
    });
    const first = await recall(alice, conv, 1);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ conversationId: conv, seq: 2, kind: 'message.recalled', actorId: alice.user.id, targetSeq: 1, createdAt: expect.any(String) });
    await changesNothing(owner, conv, async () => {
      const again = await recall(alice, conv, 1);
      expect({ status: again.status, body: again.body }).toEqual({ status: 200, body: first.body });
      expectError(await edit(alice, conv, 1, 'too late'), 409, 'gone');
      expectError(await react(bob, conv, 1, '👍'), 409, 'gone');
    });
    const [m] = await history(bob, conv);
    expect(m).toEqual({ id: expect.any(String), conversationId: conv, seq: 1, senderId: alice.user.id, clientMsgId: expect.any(String), type: 'file', content: null, recalled: true, createdAt: expect.any(String) });
  });

  it('past the window the sender is refused (403 recall_window_passed); a group’s owner and admins recall any time', async () => {
    const [owner, alice, bob] = await users(3);
    const conv = await group(owner, [alice, bob]);
    const a1 = await say(alice, conv, 'from alice'); // 1
    await say(bob, conv, 'from bob'); // 2
    await sleepUntil(Date.parse(a1.createdAt) + RECALL_WINDOW_MS + 300);
    await changesNothing(owner, conv, async () => {
      expectError(await recall(alice, conv, 1), 403, 'recall_window_passed');
      expectError(await recall(bob, conv, 2), 403, 'recall_window_passed');
      expectError(await recall(alice, conv, 2), 403, 'forbidden');
    });
    expect((await recall(owner, conv, 1)).body).toMatchObject({ seq: 3, kind: 'message.recalled', actorId: owner.user.id, targetSeq: 1 });
    expect((await api('PATCH', `${C}/${conv}/members/${alice.user.id}`, { token: owner.accessToken, body: { role: 'admin' } })).status).toBe(200); // 4
    expect((await recall(alice, conv, 2)).body).toMatchObject({ seq: 5, kind: 'message.recalled', actorId: alice.user.id, targetSeq: 2 });
    expect((await history(bob, conv)).map((m) => [m.seq, m.recalled, m.content])).toEqual([[1, true, null], [2, true, null]]);
  });
});

describe('reactions', () => {
  it('one emoji per reaction, idempotent per user, current counts in history', async () => {
    const [owner, alice, bob] = await users(3);
    const conv = await group(owner, [alice, bob]);
    await say(alice, conv); // 1
    const added = await react(bob, conv, 1, '👍');
    expect({ status: added.status, body: added.body }).toEqual({ status: 200, body: { conversationId: conv, seq: 2, kind: 'reaction.added', actorId: bob.user.id, targetSeq: 1, emoji: '👍', createdAt: expect.any(String) } });
    await changesNothing(owner, conv, async () => {
      expect((await react(bob, conv, 1, '👍')).body).toEqual(added.body);
    });
    expect((await react(alice, conv, 1, '👍')).body).toMatchObject({ seq: 3 });
    expect((await react(owner, conv, 1, '👨‍👩‍👧‍👦')).body).toMatchObject({ seq: 4, emoji: '👨‍👩‍👧‍👦' });
    expect((await history(bob, conv))[0].reactions).toEqual([
      { emoji: '👍', count: 2, userIds: [bob.user.id, alice.user.id] },
      { emoji: '👨‍👩‍👧‍👦', count: 1, userIds: [owner.user.id] },
    ]);
    const removed = await react(bob, conv, 1, '👍', false);
    expect(removed.body).toMatchObject({ seq: 5, kind: 'reaction.removed', actorId: bob.user.id, emoji: '👍' });
    await changesNothing(owner, conv, async () => {
      expect((await react(bob, conv, 1, '👍', false)).body).toEqual(removed.body);
    });
    expect((await history(bob, conv))[0].reactions[0]).toEqual({ emoji: '👍', count: 1, userIds: [alice.user.id] });
  });

  it('refuses what is not one emoji (URL-encoded in the path), the 21st distinct emoji, events and missing messages', async () => {
    const [owner, alice] = await users(2);
    const conv = await group(owner, [alice]);
    await say(alice, conv); // 1
    await changesNothing(owner, conv, async () => {
      for (const bad of ['ab', '👍👍', '1', '🇯', ':+1:']) expectError(await react(owner, conv, 1, bad), 400, 'validation_failed');
      expectError(await api('PUT', `${C}/${conv}/messages/1/reactions/%F0%9F%91%8D%F0%9F%91%8E`, { token: owner.accessToken }), 400, 'validation_failed');
      expectError(await react(owner, conv, 7, '👍'), 404, 'not_found');
    });
    const twenty = Array.from({ length: 20 }, (_, i) => String.fromCodePoint(0x1f600 + i));
    for (const e of twenty) expect((await react(alice, conv, 1, e)).status).toBe(200);
    await changesNothing(owner, conv, async () => {
      expectError(await react(owner, conv, 1, '🚀'), 400, 'validation_failed');
      expectError(await react(owner, conv, 21, '👍'), 404, 'not_found'); // seq 21 is a reaction event
    });
    // A 21st person on an emoji already there is no 21st emoji.
    expect((await react(owner, conv, 1, twenty[0]!)).body).toMatchObject({ seq: 22, kind: 'reaction.added' });
    expect((await history(owner, conv))[0].reactions).toHaveLength(20);
  });
});

describe('forwards and replies', () => {
  it('a forward copies type, content and file and says where from; it needs both memberships and a message that is not gone', async () => {
    const [owner, alice, bob, carol] = await users(4);
    const source = await group(owner, [alice, bob]);
    const target = await group(alice, [owner]);
    await befriend(bob, carol);
    const elsewhere = await group(bob, [carol]);
    const text = await say(bob, source, 'worth sharing'); // 1
    const picture = (await uploadFile(bob, pngHeader(12, 9), 'look.png', 'image/png')).body;
    const image = await say(bob, source, { caption: 'look' }, { type: 'image', fileId: picture.id }); // 2
    await say(carol, elsewhere, 'not for alice'); // elsewhere 1
    await say(bob, source, 'soon recalled'); // 3
    expect((await recall(bob, source, 3)).status).toBe(200); // 4
    const fwd = await forward(alice, target, source, 1);
    expect(fwd.status).toBe(201);
    expect(fwd.body).toMatchObject({ conversationId: target, seq: 1, senderId: alice.user.id, type: 'text', content: 'worth sharing', forwardedFrom: { conversationId: source, seq: 1, senderId: bob.user.id } });
    const fwdImage = await forward(alice, target, source, 2);
    expect(fwdImage.body).toMatchObject({ seq: 2, type: 'image', content: image.content, fileId: picture.id, forwardedFrom: { seq: 2, senderId: bob.user.id } });
    await changesNothing(owner, target, async () => {
      expectError(await forward(alice, target, elsewhere, 1), 403, 'not_member');
      expectError(await forward(alice, target, source, 3), 409, 'gone');
      expectError(await forward(alice, target, source, 4), 404, 'not_found'); // an event
      expectError(await forward(alice, target, source, 99), 404, 'not_found');
      expectError(await send(alice, target, { forwardOf: { conversationId: source, seq: 1 }, content: 'and more' }), 400, 'validation_failed');
      expectError(await forward(carol, target, elsewhere, 1), 403, 'not_member');
    });
    expect(text.content).toBe('worth sharing');
  });

  it('replyToSeq must name a message of the conversation, not an event', async () => {
    const [owner, alice] = await users(2);
    const conv = await group(owner, [alice]);
    await say(alice, conv, 'question'); // 1
    await react(owner, conv, 1, '🤔'); // 2
    await changesNothing(owner, conv, async () => {
      expectError(await send(owner, conv, { type: 'text', content: 'to an event', replyToSeq: 2 }), 400, 'validation_failed');
      expectError(await send(owner, conv, { type: 'text', content: 'to the future', replyToSeq: 3 }), 400, 'validation_failed');
    });
    expect(await say(owner, conv, 'answer', { replyToSeq: 1 })).toMatchObject({ seq: 3, replyToSeq: 1 });
  });
});

describe('@all and mentions', () => {
  it('@all is for a group’s owner and admins (403 forbidden otherwise); mentionCount counts mentions of me and @all until read', async () => {
    const [owner, alice, bob] = await users(3);
    const conv = await group(owner, [alice, bob]);
    await changesNothing(owner, conv, async () => {
      expectError(await send(bob, conv, { type: 'text', content: '@all listen', mentionAll: true }), 403, 'forbidden');
      expectError(await send(alice, conv, { type: 'text', content: 'hi', mentions: ['someone-else'] }), 400, 'validation_failed');
    });
    expect(await say(owner, conv, '@all meeting', { mentionAll: true })).toMatchObject({ seq: 1, mentionAll: true });
    expect((await api('PATCH', `${C}/${conv}/members/${alice.user.id}`, { token: owner.accessToken, body: { role: 'admin' } })).status).toBe(200); // 2
    await say(alice, conv, '@all from an admin', { mentionAll: true }); // 3
    await say(alice, conv, '@bob', { mentions: [bob.user.id] }); // 4
    await say(alice, conv, 'no mention'); // 5
    const counted = await eventually(() => listItem(bob, conv), (c) => c?.lastSeq === 5);
    expect(counted).toMatchObject({ unreadCount: 4, mentionCount: 3 });
    expect(await listItem(owner, conv)).toMatchObject({ unreadCount: 3, mentionCount: 1 });
    expect((await recall(alice, conv, 4)).status).toBe(200); // 6
    expect(await eventually(() => listItem(bob, conv), (c) => c?.lastSeq === 6)).toMatchObject({ unreadCount: 3, mentionCount: 2 });
    expect((await read(bob, conv, 3)).status).toBe(204);
    expect(await eventually(() => listItem(bob, conv), (c) => c?.unreadCount === 1)).toMatchObject({ unreadCount: 1, mentionCount: 0 });
  });
});

describe('current state and counters everywhere', () => {
  it('history, lastMessage in the list and in GET /conversations/:id follow edits, reactions and recalls', async () => {
    const [owner, alice] = await users(2);
    const conv = await group(owner, [alice]);
    await say(alice, conv, 'first draft'); // 1
    const edited = (await edit(alice, conv, 1, 'final text')).body; // 2
    await react(owner, conv, 1, '🎉'); // 3
    const current = { seq: 1, content: 'final text', editedAt: edited.editedAt, reactions: [{ emoji: '🎉', count: 1, userIds: [owner.user.id] }] };
    expect((await history(owner, conv))[0]).toMatchObject(current);
    expect((await api('GET', `${C}/${conv}`, { token: owner.accessToken })).body).toMatchObject({ lastSeq: 3, lastMessage: current });
    expect((await eventually(() => listItem(owner, conv), (c) => c?.lastSeq === 3)).lastMessage).toMatchObject(current);
    await recall(alice, conv, 1); // 4
    const tombstone = { seq: 1, content: null, recalled: true, senderId: alice.user.id };
    for (const m of [(await history(owner, conv))[0], (await api('GET', `${C}/${conv}`, { token: owner.accessToken })).body.lastMessage]) {
      expect(m).toMatchObject(tombstone);
      expect(m).not.toHaveProperty('reactions');
      expect(m).not.toHaveProperty('editedAt');
    }
    const listed = await eventually(() => listItem(owner, conv), (c) => c?.lastSeq === 4);
    expect(listed.lastMessage).toMatchObject(tombstone);
    expect(listed.lastMessage).not.toHaveProperty('reactions');
  });

  it('unreadCount counts others’ messages after my read cursor, not events, not recalled ones; sending counts as reading', async () => {
    const [owner, alice] = await users(2);
    const conv = await group(owner, [alice]);
    for (const t of ['one', 'two', 'three']) await say(alice, conv, t); // 1-3
    await react(alice, conv, 1, '👍'); // 4
    await edit(alice, conv, 2, 'two, edited'); // 5
    const unread = async (seq: number) => {
      const item = await eventually(() => listItem(owner, conv), (c) => c?.lastSeq === seq);
      const details = (await api('GET', `${C}/${conv}`, { token: owner.accessToken })).body;
      expect(details.unreadCount).toBe(item.unreadCount);
      return item.unreadCount;
    };
    expect(await unread(5)).toBe(3);
    await recall(alice, conv, 3); // 6
    expect(await unread(6)).toBe(2);
    expect((await read(owner, conv, 1)).status).toBe(204);
    expect((await eventually(() => listItem(owner, conv), (c) => c?.unreadCount === 1)).unreadCount).toBe(1);
    await say(alice, conv, 'four'); // 7
    expect(await unread(7)).toBe(2);
    await say(owner, conv, 'read it all'); // 8
    expect(await unread(8)).toBe(0);
    expect(await eventually(() => listItem(alice, conv), (c) => c?.lastSeq === 8)).toMatchObject({ unreadCount: 1 });
  });

  it('receipts: readBy and memberCount leave the sender out; events have none; strangers are refused', async () => {
    const [owner, alice, bob, stranger] = await users(4);
    const conv = await group(owner, [alice, bob]);
    await say(alice, conv, 'did you read this?'); // 1
    await react(bob, conv, 1, '👀'); // 2
    const receipts = async (who: Account, seq: number) => api('GET', `${C}/${conv}/messages/${seq}/receipts`, { token: who.accessToken });
    expect((await receipts(owner, 1)).body).toEqual({ seq: 1, readCount: 0, memberCount: 2, readBy: [] });
    await read(bob, conv, 2);
    expect((await receipts(alice, 1)).body).toEqual({ seq: 1, readCount: 1, memberCount: 2, readBy: [bob.user.id] });
    await read(owner, conv, 1);
    const both = (await receipts(alice, 1)).body;
    expect({ ...both, readBy: [...both.readBy].sort() }).toEqual({ seq: 1, readCount: 2, memberCount: 2, readBy: [owner.user.id, bob.user.id].sort() });
    expectError(await receipts(owner, 2), 404, 'not_found');
    expectError(await receipts(owner, 3), 404, 'not_found');
    expectError(await receipts(stranger, 1), 403, 'not_member');
  });
});

describe('GET /events', () => {
  it('lists messages and events in seq order with lastSeq, paged by afterSeq and limit; strangers are refused', async () => {
    const [owner, alice, stranger] = await users(3);
    const conv = await group(owner, [alice]);
    await say(alice, conv, 'm1'); // 1
    await react(owner, conv, 1, '👍'); // 2
    await say(owner, conv, 'm3'); // 3
    await edit(alice, conv, 1, 'm1 edited'); // 4
    await patch(owner, conv, { announcement: 'read the rules' }); // 5
    const all = await stream(alice, conv);
    expect(all.lastSeq).toBe(5);
    expect(all.items.map(shape)).toEqual(['1:message', '2:reaction.added', '3:message', '4:message.edited', '5:conversation.updated']);
    expect(all.items[0].message).toMatchObject({ content: 'm1 edited', reactions: [{ emoji: '👍', count: 1 }] });
    expect(all.items[4].event).toMatchObject({ actorId: owner.user.id, changes: { announcement: 'read the rules' } });
    const page = (await api('GET', `${C}/${conv}/events?afterSeq=1&limit=2`, { token: alice.accessToken })).body;
    expect({ seqs: page.items.map(shape), lastSeq: page.lastSeq }).toEqual({ seqs: ['2:reaction.added', '3:message'], lastSeq: 5 });
    expect((await stream(alice, conv, 5)).items).toEqual([]);
    expectError(await api('GET', `${C}/${conv}/events`, { token: stranger.accessToken }), 403, 'not_member');
    expectError(await api('GET', `${C}/${conv}/events?afterSeq=-1`, { token: alice.accessToken }), 400, 'validation_failed');
    expectError(await api('GET', `${C}/${conv}/events?limit=101`, { token: alice.accessToken }), 400, 'validation_failed');
  });
});

describe('actions over the device socket', () => {
  it('the acting socket gets its event with its ref; every other device of every member gets it in seq order with message.new', async () => {
    const [owner, alice, bob] = await users(3);
    const conv = await group(owner, [alice, bob]);
    const [a1, a2, b1, o1] = await Promise.all([device(alice, 'a1'), device(alice, 'a2'), device(bob, 'b1'), device(owner, 'o1')]);
    const view = await liveView(owner, conv);
    a1.send({ type: 'message.send', conversationId: conv, clientMsgId: 'ws-1', msgType: 'text', content: 'typo hree' });
    expect(await a1.nextOfType('message.ack')).toMatchObject({ seq: 1 });
    a1.send({ type: 'message.edit', conversationId: conv, seq: 1, content: 'typo here', ref: 'e1' });
    const answer = await a1.nextOfType('conversation.event');
    expect(answer).toMatchObject({ ref: 'e1', event: { seq: 2, kind: 'message.edited', targetSeq: 1, content: 'typo here', actorId: alice.user.id } });
    b1.send({ type: 'reaction.add', conversationId: conv, seq: 1, emoji: '😂', ref: 'r1' });
    expect(await b1.next((f) => f.type === 'conversation.event' && f.ref === 'r1')).toMatchObject({ event: { seq: 3, kind: 'reaction.added', emoji: '😂' } });
    b1.send({ type: 'reaction.remove', conversationId: conv, seq: 1, emoji: '😂', ref: 'r2' });
    expect(await b1.next((f) => f.type === 'conversation.event' && f.ref === 'r2')).toMatchObject({ event: { seq: 4, kind: 'reaction.removed' } });
    a1.send({ type: 'message.recall', conversationId: conv, seq: 1, ref: 'x1' });
    expect(await a1.next((f) => f.type === 'conversation.event' && f.ref === 'x1')).toMatchObject({ event: { seq: 5, kind: 'message.recalled', targetSeq: 1 } });
    const all = ['1:message', '2:message.edited', '3:reaction.added', '4:reaction.removed', '5:message.recalled'];
    for (const s of [a2, o1, view]) expect((await entries(s, conv, 5)).map(frameShape)).toEqual(all);
    expect((await entries(b1, conv, 3)).map(frameShape)).toEqual(['1:message', '2:message.edited', '5:message.recalled']);
    expect((await entries(a1, conv, 2)).map(frameShape)).toEqual(['3:reaction.added', '4:reaction.removed']);
    // Nobody gets anything twice; answers to others carry no ref.
    for (const s of [a1, a2, b1, o1, view]) expect((await s.drain('conversation.event', 300)).concat(await s.drain('message.new', 0))).toEqual([]);
    for (const s of [a2, o1, view]) expect(s.log.filter((f) => f.type === 'conversation.event' && f.ref)).toEqual([]);
  });

  it('refusals are error frames with the ref, and change nothing', async () => {
    const [owner, alice, bob] = await users(3);
    const conv = await group(owner, [alice, bob]);
    await say(alice, conv, 'mine'); // 1
    const [b1, a1] = await Promise.all([device(bob, 'b1'), device(alice, 'a1')]);
    await changesNothing(owner, conv, async () => {
      b1.send({ type: 'message.edit', conversationId: conv, seq: 1, content: 'not yours', ref: 'f1' });
      expect(await b1.nextOfType('error')).toMatchObject({ code: 'forbidden', ref: 'f1' });
      b1.send({ type: 'message.recall', conversationId: conv, seq: 1, ref: 'f2' });
      expect(await b1.nextOfType('error')).toMatchObject({ code: 'forbidden', ref: 'f2' });
      b1.send({ type: 'reaction.add', conversationId: conv, seq: 1, emoji: 'ok', ref: 'f3' });
      expect(await b1.nextOfType('error')).toMatchObject({ code: 'validation_failed', ref: 'f3' });
      a1.send({ type: 'message.edit', conversationId: conv, seq: 9, content: 'nothing there', ref: 'f4' });
      expect(await a1.nextOfType('error')).toMatchObject({ code: 'not_found', ref: 'f4' });
    });
    expect(await b1.drain('conversation.event', 200)).toEqual([]);
  });
});

describe('actions over the live-view socket', () => {
  it('the acting view gets its event with its ref; the actor’s devices and the other members get it too', async () => {
    const [owner, alice] = await users(2);
    const conv = await group(owner, [alice]);
    const [a1, o1] = await Promise.all([device(alice, 'a1'), device(owner, 'o1')]);
    const view = await liveView(alice, conv);
    const otherView = await liveView(owner, conv);
    view.send({ type: 'message.send', conversationId: conv, clientMsgId: 'lv-1', msgType: 'text', content: 'from the view' });
    expect(await view.nextOfType('message.ack')).toMatchObject({ seq: 1 });
    view.send({ type: 'message.edit', conversationId: conv, seq: 1, content: 'edited in the view', ref: 'lv-e' });
    expect(await view.nextOfType('conversation.event')).toMatchObject({ ref: 'lv-e', event: { seq: 2, kind: 'message.edited' } });
    view.send({ type: 'reaction.add', conversationId: conv, seq: 1, emoji: '✅', ref: 'lv-r' });
    expect(await view.nextOfType('conversation.event')).toMatchObject({ ref: 'lv-r', event: { seq: 3, kind: 'reaction.added', emoji: '✅' } });
    view.send({ type: 'reaction.remove', conversationId: conv, seq: 1, emoji: '✅', ref: 'lv-u' });
    expect(await view.nextOfType('conversation.event')).toMatchObject({ ref: 'lv-u', event: { seq: 4, kind: 'reaction.removed', emoji: '✅' } });
    view.send({ type: 'message.recall', conversationId: conv, seq: 1, ref: 'lv-x' });
    expect(await view.nextOfType('conversation.event')).toMatchObject({ ref: 'lv-x', event: { seq: 5, kind: 'message.recalled' } });
    const all = ['1:message', '2:message.edited', '3:reaction.added', '4:reaction.removed', '5:message.recalled'];
    for (const s of [a1, o1, otherView]) expect((await entries(s, conv, 5)).map(frameShape)).toEqual(all);
    await changesNothing(owner, conv, async () => {
      otherView.send({ type: 'message.edit', conversationId: conv, seq: 1, content: 'x', ref: 'lv-f' });
      expect(await otherView.nextOfType('error')).toMatchObject({ code: 'gone', ref: 'lv-f' });
      view.send({ type: 'reaction.add', conversationId: 'another-conversation', seq: 1, emoji: '✅', ref: 'lv-o' });
      expect(await view.nextOfType('error')).toMatchObject({ code: 'validation_failed', ref: 'lv-o' });
    });
    for (const s of [view, a1, o1, otherView]) expect(await s.drain('conversation.event', 200)).toEqual([]);
  });
});

describe('outsiders and departed members', () => {
  it('a stranger and a removed member can neither change nor read the stream', async () => {
    const [owner, alice, bob, stranger] = await users(4);
    const conv = await group(owner, [alice, bob]);
    await say(bob, conv, 'bob was here'); // 1
    expect((await api('DELETE', `${C}/${conv}/members/${bob.user.id}`, { token: owner.accessToken })).status).toBe(204); // 2
    await changesNothing(owner, conv, async () => {
      for (const who of [stranger, bob]) {
        expectError(await edit(who, conv, 1, 'still mine?'), 403, 'not_member');
        expectError(await recall(who, conv, 1), 403, 'not_member');
        expectError(await react(who, conv, 1, '👋'), 403, 'not_member');
        expectError(await send(who, conv, { type: 'text', content: 'let me in' }), 403, 'not_member');
        expectError(await api('GET', `${C}/${conv}/events`, { token: who.accessToken }), 403, 'not_member');
        expectError(await api('GET', `${C}/${conv}/messages/1/receipts`, { token: who.accessToken }), 403, 'not_member');
      }
      const b1 = await device(bob, 'b1');
      b1.send({ type: 'reaction.add', conversationId: conv, seq: 1, emoji: '👋', ref: 'gone-1' });
      expect(await b1.nextOfType('error')).toMatchObject({ code: 'not_member', ref: 'gone-1' });
    });
  });
});

describe('membership and settings events', () => {
  it('an added member sees member.joined and the stream from there on; old members see it too', async () => {
    const [owner, alice, bob] = await users(3);
    const conv = await group(owner, [alice]);
    await say(alice, conv, 'before bob'); // 1
    await react(owner, conv, 1, '👍'); // 2
    const [o1, a1, b1] = await Promise.all([device(owner, 'o1'), device(alice, 'a1'), device(bob, 'b1')]);
    await befriend(owner, bob);
    expect((await api('POST', `${C}/${conv}/members`, { token: owner.accessToken, body: { userIds: [bob.user.id] } })).status).toBe(200); // 3
    for (const s of [o1, a1, b1]) {
      const [joined] = await entries(s, conv, 1);
      expect(joined).toMatchObject({ type: 'conversation.event', event: { seq: 3, kind: 'member.joined', userIds: [bob.user.id], actorId: owner.user.id } });
    }
    await say(alice, conv, 'welcome'); // 4
    expect((await entries(b1, conv, 1)).map(frameShape)).toEqual(['4:message']);
    expect((await stream(bob, conv)).items.map(shape)).toEqual(['3:member.joined', '4:message']);
    expect((await history(bob, conv)).map((m) => m.seq)).toEqual([4]);
    expectError(await react(bob, conv, 1, '👍'), 404, 'not_found');
    expectError(await forward(bob, conv, conv, 1), 404, 'not_found');
    expect((await stream(alice, conv)).items.map(shape)).toEqual(['1:message', '2:reaction.added', '3:member.joined', '4:message']);
  });

  it('a removed or departing member gets their own member.removed / member.left and then nothing more', async () => {
    const [owner, alice, bob, carol] = await users(4);
    const conv = await group(owner, [alice, bob, carol]);
    const [o1, a1, b1, c1] = await Promise.all([device(owner, 'o1'), device(alice, 'a1'), device(bob, 'b1'), device(carol, 'c1')]);
    const bView = await liveView(bob, conv);
    expect((await api('DELETE', `${C}/${conv}/members/${bob.user.id}`, { token: owner.accessToken })).status).toBe(204); // 1
    expect((await entries(b1, conv, 1))[0]).toMatchObject({ event: { seq: 1, kind: 'member.removed', userId: bob.user.id, actorId: owner.user.id } });
    expect((await bView.closedWithin())?.code).toBe(4003);
    expect((await api('POST', `${C}/${conv}/leave`, { token: carol.accessToken })).status).toBe(204); // 2
    const [, left] = await entries(c1, conv, 2);
    expect(left).toMatchObject({ event: { seq: 2, kind: 'member.left', userId: carol.user.id, actorId: carol.user.id } });
    expect((await api('PATCH', `${C}/${conv}/members/${alice.user.id}`, { token: owner.accessToken, body: { role: 'admin' } })).status).toBe(200); // 3
    await say(owner, conv, 'after they went'); // 4
    for (const s of [o1, a1]) {
      expect((await entries(s, conv, 4)).map(frameShape)).toEqual(['1:member.removed', '2:member.left', '3:member.role_changed', '4:message']);
    }
    expect((await stream(owner, conv)).items[2].event).toMatchObject({ userId: alice.user.id, role: 'admin', actorId: owner.user.id });
    expect(await b1.drain('conversation.event', 500)).toEqual([]);
    expect(await c1.drain('conversation.event', 0)).toEqual([]);
    expect([...(await b1.drain('message.new', 0)), ...(await c1.drain('message.new', 0))]).toEqual([]);
    // They replay nothing either: the conversation is gone from their sync.
    for (const [who, s] of [[bob, b1], [carol, c1]] as const) {
      const { entries: replayed } = await s.replay({ [conv]: 0 });
      expect(replayed).toEqual([]);
      expectError(await api('GET', `${C}/${conv}/events`, { token: who.accessToken }), 403, 'not_member');
    }
  });

  it('PATCH name, announcement and TTL each append conversation.updated; out-of-range TTLs are refused and change nothing', async () => {
    const [owner, alice] = await users(2);
    const conv = await group(owner, [alice]);
    await changesNothing(alice, conv, async () => {
      for (const ttl of [1, 29, 604_801, -30, 30.5]) expectError(await patch(owner, conv, { messageTtlSeconds: ttl }), 400, 'validation_failed');
      expectError(await patch(owner, conv, { messageTtlSeconds: '60' }), 400, 'validation_failed');
      expectError(await patch(alice, conv, { name: 'not an admin' }), 403, 'forbidden');
      expectError(await patch(owner, conv, {}), 400, 'validation_failed');
    });
    expect((await patch(owner, conv, { name: 'renamed' })).status).toBe(200); // 1
    expect((await patch(owner, conv, { announcement: 'hello all' })).status).toBe(200); // 2
    expect((await patch(owner, conv, { messageTtlSeconds: 604_800 })).body).toMatchObject({ messageTtlSeconds: 604_800 }); // 3
    expect((await patch(owner, conv, { messageTtlSeconds: 0 })).body).not.toHaveProperty('messageTtlSeconds'); // 4
    expect((await patch(owner, conv, { announcement: null })).status).toBe(200); // 5
    expect((await stream(alice, conv)).items.map((i: any) => [i.event.seq, i.event.kind, i.event.changes])).toEqual([
      [1, 'conversation.updated', { name: 'renamed' }],
      [2, 'conversation.updated', { announcement: 'hello all' }],
      [3, 'conversation.updated', { messageTtlSeconds: 604_800 }],
      [4, 'conversation.updated', { messageTtlSeconds: 0 }],
      [5, 'conversation.updated', { announcement: null }],
    ]);
  });

  it('in a single chat either member sets the TTL, and nothing else', async () => {
    const [alice, bob] = await users(2);
    await befriend(alice, bob);
    const conv = (await api('POST', C, { token: alice.accessToken, body: { kind: 'single', peerId: bob.user.id } })).body.id as string;
    await changesNothing(alice, conv, async () => {
      expectError(await patch(alice, conv, { name: 'us' }), 400, 'validation_failed');
      expectError(await patch(bob, conv, { announcement: 'hi', messageTtlSeconds: 60 }), 400, 'validation_failed');
      expectError(await patch(bob, conv, { messageTtlSeconds: 10 }), 400, 'validation_failed');
    });
    expect((await patch(alice, conv, { messageTtlSeconds: 60 })).status).toBe(200);
    expect((await patch(bob, conv, { messageTtlSeconds: 0 })).status).toBe(200);
    expect((await stream(bob, conv)).items.map((i: any) => [i.event.actorId, i.event.changes])).toEqual([
      [alice.user.id, { messageTtlSeconds: 60 }],
      [bob.user.id, { messageTtlSeconds: 0 }],
    ]);
  });
});

describe('disappearing messages', () => {
  it('with a 30 s TTL a message carries expiresAt and then expires everywhere: tombstone, message.expired event, unread, Postgres', { timeout: 90_000 }, async () => {
    const [owner, alice] = await users(2);
    const conv = await group(owner, [alice]);
    const a1 = await device(alice, 'a1');
    expect((await patch(owner, conv, { messageTtlSeconds: 30 })).status).toBe(200); // 1
    const m = await say(owner, conv, 'this will self-destruct', { mentions: [alice.user.id] }); // 2
    expect(Date.parse(m.expiresAt) - Date.parse(m.createdAt)).toBe(30_000);
    expect((await entries(a1, conv, 2)).map(frameShape)).toEqual(['1:conversation.updated', '2:message']);
    expect(await eventually(() => listItem(alice, conv), (c) => c?.lastSeq === 2)).toMatchObject({ unreadCount: 1, mentionCount: 1 });
    await sleepUntil(Date.parse(m.expiresAt));
    const [expired] = await entries(a1, conv, 1, 15_000);
    expect(expired).toMatchObject({ type: 'conversation.event', event: { seq: 3, kind: 'message.expired', targetSeq: 2, actorId: owner.user.id } });
    expect(Date.parse(expired!.event.createdAt)).toBeGreaterThanOrEqual(Date.parse(m.expiresAt));
    const tombstone = { seq: 2, expired: true, content: null, senderId: owner.user.id, expiresAt: m.expiresAt };
    expect((await history(alice, conv))[0]).toMatchObject(tombstone);
    expect((await history(alice, conv))[0]).not.toHaveProperty('mentions');
    expect((await stream(alice, conv)).items.map(shape)).toEqual(['1:conversation.updated', '2:message', '3:message.expired']);
    expect((await stream(alice, conv)).items[1].message).toMatchObject(tombstone);
    expect(await eventually(() => listItem(alice, conv), (c) => c?.lastSeq === 3)).toMatchObject({ unreadCount: 0, mentionCount: 0, lastMessage: tombstone });
    const [row] = await rowsWhen('SELECT expired, content, mentions FROM messages WHERE conversation_id = $1 AND seq = 2', [conv], (r) => r[0]?.expired === true);
    expect(row).toEqual({ expired: true, content: null, mentions: null });
  });
});

describe('one cursor syncs everything', () => {
  it('a device offline while messages and events happen gets exactly the missed seqs on reconnect, interleaved, no gap, no duplicate', async () => {
    const [owner, alice, bob, carol] = await users(4);
    const conv = await group(owner, [alice, bob]);
    await say(alice, conv, 'seen'); // 1
    const b1 = await device(bob, 'b1');
    const first = await b1.replay({ [conv]: 0 });
    expect(first.entries.map(frameShape)).toEqual(['1:message']);
    await b1.close();

    await say(alice, conv, 'missed one'); // 2
    await edit(alice, conv, 2, 'missed one, edited'); // 3
    await react(owner, conv, 1, '🔥'); // 4
    await react(bob, conv, 2, '👀'); // 5 (bob, from elsewhere)
    await say(owner, conv, 'missed two'); // 6
    await recall(owner, conv, 6); // 7
    await patch(owner, conv, { name: 'renamed while away' }); // 8
    await befriend(owner, carol);
    await api('POST', `${C}/${conv}/members`, { token: owner.accessToken, body: { userIds: [carol.user.id] } }); // 9
    await react(bob, conv, 2, '👀', false); // 10

    const b2 = await Socket.open({ token: bob.accessToken, deviceId: 'b1' });
    open.push(b2);
    const { entries: missed, done } = await b2.replay({ [conv]: 1 });
    expect(missed.map(frameShape)).toEqual([
      '2:message', '3:message.edited', '4:reaction.added', '5:reaction.added', '6:message', '7:message.recalled',
      '8:conversation.updated', '9:member.joined', '10:reaction.removed',
    ]);
    expect(done.cursors[conv]).toBe(10);
    // The replay is the current state of each message, the same as the REST stream after the cursor.
    const rest = (await stream(bob, conv, 1)).items;
    expect(missed.map(itemOf)).toEqual(rest);
    expect(missed[0]!.message).toMatchObject({ content: 'missed one, edited', editedAt: expect.any(String) });
    expect(missed[4]!.message).toMatchObject({ recalled: true, content: null });
    expect(missed.filter((f) => f.ref)).toEqual([]);
    expect(await b2.drain('conversation.event', 300)).toEqual([]);
    // Live from here on, one after the other.
    await react(alice, conv, 2, '✅'); // 11
    expect((await entries(b2, conv, 1)).map(frameShape)).toEqual(['11:reaction.added']);
  });
});

describe('pages across the hot window', () => {
  it('pages read while the hot window is being pruned have no gaps (HOT_WINDOW_MESSAGES is 10 here)', async () => {
    const [owner, alice] = await users(2);
    const conv = await group(owner, [alice]);
    // Odd seqs are messages, even seqs reactions to them.
    let sending = true;
    const gaps: string[] = [];
    const reader = (async () => {
      for (let round = 0; sending; round++) {
        const after = round % 40;
        const [events, messages] = await Promise.all([
          api('GET', `${C}/${conv}/events?afterSeq=${after}&limit=100`, { token: alice.accessToken }),
          api('GET', `${C}/${conv}/messages?afterSeq=${after}&limit=100`, { token: alice.accessToken }),
        ]);
        const seqs = (events.body.items as any[]).map((i) => ('message' in i ? i.message.seq : i.event.seq));
        // A page may stop short of lastSeq where it moved on meanwhile, but never skips a seq on the way.
        if (seqs.some((seq, i) => seq !== after + 1 + i)) gaps.push(`events after ${after}: ${seqs.join(',')}`);
        const msgSeqs = (messages.body.items as any[]).map((m) => m.seq);
        const firstOdd = after % 2 === 0 ? after + 1 : after + 2;
        if (msgSeqs.some((seq, i) => seq !== firstOdd + 2 * i)) gaps.push(`messages after ${after}: ${msgSeqs.join(',')}`);
      }
    })();
    for (let i = 1; i <= 25; i++) {
      await say(alice, conv, `m${i}`);
      await react(owner, conv, 2 * i - 1, '👍');
    }
    sending = false;
    await reader;
    expect(gaps).toEqual([]);
    expect((await stream(alice, conv)).items.map(shape)).toEqual(Array.from({ length: 50 }, (_, i) => (i % 2 ? `${i + 1}:reaction.added` : `${i + 1}:message`)));
  });
});
