/**
 * The conversation REST surface end to end: singles and groups, roles and
 * membership, messages over REST, read cursors, presence queries. Happy
 * paths, refusals (each with its code, changing nothing), and access rules.
 */
import { describe, expect, it } from 'vitest';
import { api, befriend, createGroup, eventually, expectError, users, type Account } from './client.ts';
import { Socket } from './ws-client.ts';

const C = '/api/v1/conversations';


const makeFriends = befriend;
const group = createGroup;

const get = (who: Account, id: string) => api('GET', `${C}/${id}`, { token: who.accessToken });
const roles = (conv: any) => Object.fromEntries(conv.members.map((m: any) => [m.userId, m.role]));

let n = 0;
function text(content: string, clientMsgId = `m${++n}-${Date.now()}`) {
  return { clientMsgId, type: 'text', content };
}
const send = (who: Account, id: string, body: unknown) => api('POST', `${C}/${id}/messages`, { token: who.accessToken, body });

const listed = (who: Account) => api('GET', `${C}?limit=100`, { token: who.accessToken }).then((r) => r.body.items as any[]);

describe('single conversations', () => {
  it('is created once per pair: 201 first, then 200 with the same conversation, from either side', async () => {
    const [a, b] = await users(2);
    await makeFriends(a, b);
    const first = await api('POST', C, { token: a.accessToken, body: { kind: 'single', peerId: b.user.id } });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ kind: 'single', lastSeq: 0, unreadCount: 0 });
    expect(first.body.name).toBeUndefined();
    expect(roles(first.body)).toEqual({ [a.user.id]: 'member', [b.user.id]: 'member' });
    const again = await api('POST', C, { token: a.accessToken, body: { kind: 'single', peerId: b.user.id } });
    const fromPeer = await api('POST', C, { token: b.accessToken, body: { kind: 'single', peerId: a.user.id } });
    expect([again.status, fromPeer.status]).toEqual([200, 200]);
    expect(again.body.id).toBe(first.body.id);
    expect(fromPeer.body.id).toBe(first.body.id);
    const inList = await eventually(() => listed(b), (items) => items.some((i) => i.id === first.body.id));
    expect(inList.find((i) => i.id === first.body.id)).toMatchObject({ kind: 'single', unreadCount: 0 });
  });

  it('concurrent creates from both sides make one conversation and exactly one 201', async () => {
    const [a, b] = await users(2);
    await makeFriends(a, b);
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => {
        const [me, peer] = i % 2 ? [a, b] : [b, a];
        return api('POST', C, { token: me.accessToken, body: { kind: 'single', peerId: peer.user.id } });
      }),
    );
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
  });

  it('needs a friend: 403 not_friends for a stranger or an unknown id, 400 for yourself', async () => {
    const [a, b] = await users(2);
    expectError(await api('POST', C, { token: a.accessToken, body: { kind: 'single', peerId: b.user.id } }), 403, 'not_friends');
    expectError(await api('POST', C, { token: a.accessToken, body: { kind: 'single', peerId: '0193a5b2-7c1e-7d3a-9f00-000000000000' } }), 403, 'not_friends');
    expectError(await api('POST', C, { token: a.accessToken, body: { kind: 'single', peerId: a.user.id } }), 400, 'validation_failed');
    expect(await listed(a)).toEqual([]);
  });

  it('is refused with 403 blocked when either side blocked the other', async () => {
    const [a, b] = await users(2);
    await makeFriends(a, b);
    expect((await api('POST', `/api/v1/users/${b.user.id}/block`, { token: a.accessToken })).status).toBe(204);
    expectError(await api('POST', C, { token: a.accessToken, body: { kind: 'single', peerId: b.user.id } }), 403, 'blocked');
    expectError(await api('POST', C, { token: b.accessToken, body: { kind: 'single', peerId: a.user.id } }), 403, 'blocked');
  });

  it('cannot be edited, joined, left or trimmed (400)', async () => {
    const [a, b, c] = await users(3);
    await makeFriends(a, b);
    const conv = (await api('POST', C, { token: a.accessToken, body: { kind: 'single', peerId: b.user.id } })).body;
    expectError(await api('PATCH', `${C}/${conv.id}`, { token: a.accessToken, body: { name: 'x' } }), 400, 'validation_failed');
    expectError(await api('POST', `${C}/${conv.id}/members`, { token: a.accessToken, body: { userIds: [c.user.id] } }), 400, 'validation_failed');
    expectError(await api('DELETE', `${C}/${conv.id}/members/${b.user.id}`, { token: a.accessToken }), 400, 'validation_failed');
    expectError(await api('POST', `${C}/${conv.id}/leave`, { token: a.accessToken }), 400, 'validation_failed');
    expect(roles((await get(a, conv.id)).body)).toEqual({ [a.user.id]: 'member', [b.user.id]: 'member' });
  });
});

describe('groups', () => {
  it('creates with the caller as owner, members deduplicated and the caller left out of memberIds', async () => {
    const [a, b, c] = await users(3);
    await Promise.all([befriend(a, b), befriend(a, c)]);
    const res = await api('POST', C, { token: a.accessToken, body: { kind: 'group', name: '  Hiking  ', memberIds: [b.user.id, c.user.id, b.user.id, a.user.id] } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ kind: 'group', name: 'Hiking', lastSeq: 0, unreadCount: 0 });
    expect(res.body.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(roles(res.body)).toEqual({ [a.user.id]: 'owner', [b.user.id]: 'member', [c.user.id]: 'member' });
    const seen = await get(c, res.body.id);
    expect(seen.status).toBe(200);
    expect(seen.body).toMatchObject({ id: res.body.id, name: 'Hiking', lastSeq: 0, unreadCount: 0 });
    const items = await eventually(() => listed(c), (xs) => xs.some((i) => i.id === res.body.id));
    expect(items.map((i) => i.id)).toContain(res.body.id);
  });

  it('refuses bad bodies with 400 and creates nothing', async () => {
    const [a, b] = await users(2);
    await befriend(a, b);
    const bad = [
      { kind: 'group', name: '', memberIds: [] },
      { kind: 'group', name: 'x'.repeat(65), memberIds: [] },
      { kind: 'group', name: 'ok', memberIds: [b.user.id], extra: 1 },
      { kind: 'group', name: 'ok', memberIds: Array.from({ length: 500 }, (_, i) => `user-${i}`) },
      { kind: 'group', name: 'ok', memberIds: [b.user.id, 'no-such-user'] },
      { kind: 'channel', name: 'ok', memberIds: [] },
      { kind: 'single' },
    ];
    for (const body of bad) expectError(await api('POST', C, { token: a.accessToken, body }), 400, 'validation_failed');
    expectError(await api('POST', C, { token: a.accessToken, raw: '{"kind":' }), 400, 'invalid_json');
    await new Promise((r) => setTimeout(r, 300));
    expect(await listed(a)).toEqual([]);
    expect(await listed(b)).toEqual([]);
  });

  it('owner and admins edit the group; members and strangers cannot, and bad patches change nothing', async () => {
    const [a, b, c, x] = await users(4);
    const g = await group(a, [b, c], 'before');
    const patched = await api('PATCH', `${C}/${g.id}`, { token: a.accessToken, body: { name: 'after', announcement: 'Welcome!' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id: g.id, name: 'after', announcement: 'Welcome!' });

    expectError(await api('PATCH', `${C}/${g.id}`, { token: c.accessToken, body: { name: 'mine' } }), 403, 'forbidden');
    expectError(await api('PATCH', `${C}/${g.id}`, { token: x.accessToken, body: { name: 'mine' } }), 403, 'not_member');
    for (const body of [{}, { announcement: 'x'.repeat(2001) }, { name: '' }, { name: 'ok', color: 'red' }, { name: null }]) {
      expectError(await api('PATCH', `${C}/${g.id}`, { token: a.accessToken, body }), 400, 'validation_failed');
    }

    expect((await api('PATCH', `${C}/${g.id}/members/${b.user.id}`, { token: a.accessToken, body: { role: 'admin' } })).status).toBe(200);
    const byAdmin = await api('PATCH', `${C}/${g.id}`, { token: b.accessToken, body: { announcement: null } });
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body.announcement).toBeUndefined();
    expect((await get(c, g.id)).body).toMatchObject({ name: 'after' });
    // Members hear about it: their list shows the new name.
    const items = await eventually(() => listed(c), (xs) => xs.some((i) => i.id === g.id && i.name === 'after'));
    expect(items.find((i) => i.id === g.id)?.name).toBe('after');
  });

  it('404 for an unknown conversation, 403 not_member for a stranger, 401 without a token', async () => {
    const [a, b, x] = await users(3);
    const g = await group(a, [b]);
    const unknown = '0193a5b2-7c1e-7d3a-9f00-ffffffffffff';
    expectError(await get(a, unknown), 404, 'not_found');
    expectError(await api('PATCH', `${C}/${unknown}`, { token: a.accessToken, body: { name: 'x' } }), 404, 'not_found');
    expectError(await api('POST', `${C}/${unknown}/members`, { token: a.accessToken, body: { userIds: [b.user.id] } }), 404, 'not_found');
    expectError(await api('POST', `${C}/${unknown}/leave`, { token: a.accessToken }), 404, 'not_found');
    expectError(await get(x, g.id), 403, 'not_member');
    expectError(await api('POST', `${C}/${g.id}/members`, { token: x.accessToken, body: { userIds: [x.user.id] } }), 403, 'not_member');
    expectError(await api('POST', `${C}/${g.id}/leave`, { token: x.accessToken }), 403, 'not_member');
    expectError(await api('GET', `${C}/${g.id}`), 401, 'unauthenticated');
    expectError(await api('GET', C), 401, 'unauthenticated');
  });
});

describe('members and roles', () => {
  it('owner/admins add members (existing ones skipped); plain members cannot; unknown ids change nothing', async () => {
    const [a, b, c, d, e] = await users(5);
    const g = await group(a, [b]);
    await Promise.all([befriend(a, c), befriend(a, d), befriend(b, d), befriend(b, e)]);
    const added = await api('POST', `${C}/${g.id}/members`, { token: a.accessToken, body: { userIds: [c.user.id, b.user.id, c.user.id] } });
    expect(added.status).toBe(200);
    expect(roles(added.body)).toEqual({ [a.user.id]: 'owner', [b.user.id]: 'member', [c.user.id]: 'member' });
    expectError(await api('POST', `${C}/${g.id}/members`, { token: b.accessToken, body: { userIds: [d.user.id] } }), 403, 'forbidden');
    expectError(await api('POST', `${C}/${g.id}/members`, { token: a.accessToken, body: { userIds: [d.user.id, 'no-such-user'] } }), 400, 'validation_failed');
    expectError(await api('POST', `${C}/${g.id}/members`, { token: a.accessToken, body: { userIds: [] } }), 400, 'validation_failed');
    expectError(await get(d, g.id), 403, 'not_member');

    await api('PATCH', `${C}/${g.id}/members/${b.user.id}`, { token: a.accessToken, body: { role: 'admin' } });
    const byAdmin = await api('POST', `${C}/${g.id}/members`, { token: b.accessToken, body: { userIds: [d.user.id, e.user.id] } });
    expect(byAdmin.status).toBe(200);
    expect(roles(byAdmin.body)[d.user.id]).toBe('member');
    const seen = await get(d, g.id);
    expect(seen.status).toBe(200);
    expect(seen.body.unreadCount).toBe(0);
  });

  it('only the owner changes roles', async () => {
    const [a, b, c] = await users(3);
    const g = await group(a, [b, c]);
    expectError(await api('PATCH', `${C}/${g.id}/members/${c.user.id}`, { token: b.accessToken, body: { role: 'admin' } }), 403, 'forbidden');
    expect((await api('PATCH', `${C}/${g.id}/members/${b.user.id}`, { token: a.accessToken, body: { role: 'admin' } })).status).toBe(200);
    expectError(await api('PATCH', `${C}/${g.id}/members/${c.user.id}`, { token: b.accessToken, body: { role: 'admin' } }), 403, 'forbidden');
    expectError(await api('PATCH', `${C}/${g.id}/members/${c.user.id}`, { token: a.accessToken, body: { role: 'owner' } }), 400, 'validation_failed');
    expectError(await api('PATCH', `${C}/${g.id}/members/${a.user.id}`, { token: a.accessToken, body: { role: 'member' } }), 400, 'validation_failed');
    expect(roles((await get(c, g.id)).body)).toEqual({ [a.user.id]: 'owner', [b.user.id]: 'admin', [c.user.id]: 'member' });
  });

  it('removal: admins remove plain members only, the owner anyone; nobody removes themselves', async () => {
    const [a, b, c, d, e] = await users(5);
    const g = await group(a, [b, c, d, e]);
    for (const id of [b.user.id, c.user.id]) await api('PATCH', `${C}/${g.id}/members/${id}`, { token: a.accessToken, body: { role: 'admin' } });

    expectError(await api('DELETE', `${C}/${g.id}/members/${a.user.id}`, { token: b.accessToken }), 403, 'forbidden');
    expectError(await api('DELETE', `${C}/${g.id}/members/${c.user.id}`, { token: b.accessToken }), 403, 'forbidden');
    expectError(await api('DELETE', `${C}/${g.id}/members/${e.user.id}`, { token: d.accessToken }), 403, 'forbidden');
    expectError(await api('DELETE', `${C}/${g.id}/members/${b.user.id}`, { token: b.accessToken }), 400, 'validation_failed');
    expectError(await api('DELETE', `${C}/${g.id}/members/no-such-member`, { token: a.accessToken }), 404, 'not_found');

    expect((await api('DELETE', `${C}/${g.id}/members/${d.user.id}`, { token: b.accessToken })).status).toBe(204);
    expect((await api('DELETE', `${C}/${g.id}/members/${c.user.id}`, { token: a.accessToken })).status).toBe(204);
    expect(roles((await get(a, g.id)).body)).toEqual({ [a.user.id]: 'owner', [b.user.id]: 'admin', [e.user.id]: 'member' });

    // The removed can neither read nor write, and the conversation leaves their list.
    for (const gone of [c, d]) {
      expectError(await get(gone, g.id), 403, 'not_member');
      expectError(await send(gone, g.id, text('still here?')), 403, 'not_member');
      expectError(await api('GET', `${C}/${g.id}/messages`, { token: gone.accessToken }), 403, 'not_member');
    }
    const items = await eventually(() => listed(d), (xs) => !xs.some((i) => i.id === g.id));
    expect(items.map((i) => i.id)).not.toContain(g.id);
  });

  it('a leaving owner hands over to the longest-standing admin, else the longest-standing member', async () => {
    const [a, b, c, d] = await users(4);
    const g = await group(a, [b]);
    await Promise.all([befriend(a, c), befriend(a, d)]);
    await api('POST', `${C}/${g.id}/members`, { token: a.accessToken, body: { userIds: [c.user.id] } });
    await api('POST', `${C}/${g.id}/members`, { token: a.accessToken, body: { userIds: [d.user.id] } });
    await api('PATCH', `${C}/${g.id}/members/${d.user.id}`, { token: a.accessToken, body: { role: 'admin' } });
    await api('PATCH', `${C}/${g.id}/members/${c.user.id}`, { token: a.accessToken, body: { role: 'admin' } });

    expect((await api('POST', `${C}/${g.id}/leave`, { token: a.accessToken })).status).toBe(204);
    expect(roles((await get(b, g.id)).body)).toEqual({ [b.user.id]: 'member', [c.user.id]: 'owner', [d.user.id]: 'admin' });
    expectError(await get(a, g.id), 403, 'not_member');
    expectError(await send(a, g.id, text('bye?')), 403, 'not_member');

    expect((await api('POST', `${C}/${g.id}/leave`, { token: c.accessToken })).status).toBe(204);
    expect((await api('POST', `${C}/${g.id}/leave`, { token: d.accessToken })).status).toBe(204);
    expect(roles((await get(b, g.id)).body)).toEqual({ [b.user.id]: 'owner' });
  });

  it('a member who left receives nothing more', async () => {
    const [a, b] = await users(2);
    const g = await group(a, [b]);
    const sock = await Socket.connect({ token: b.accessToken, deviceId: 'b-phone' });
    try {
      expect((await send(a, g.id, text('one'))).status).toBe(201);
      await sock.next((f) => f.type === 'message.new' && f.message.conversationId === g.id);
      expect((await api('POST', `${C}/${g.id}/leave`, { token: b.accessToken })).status).toBe(204);
      expect((await send(a, g.id, text('two'))).status).toBe(201);
      expect((await sock.drain('message.new', 500)).filter((f) => f.message.conversationId === g.id)).toEqual([]);
    } finally {
      await sock.close();
    }
  });
});

describe('messages over REST', () => {
  it('sends with dense seqs, dedupes a retry, and pages history ascending', async () => {
    const [a, b] = await users(2);
    const g = await group(a, [b]);
    const sent = [];
    for (const word of ['one', 'two', 'three', 'four']) {
      const res = await send(word === 'two' ? b : a, g.id, text(word, `id-${word}`));
      expect(res.status).toBe(201);
      sent.push(res.body);
    }
    expect(sent.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(sent[0]).toMatchObject({ conversationId: g.id, senderId: a.user.id, clientMsgId: 'id-one', type: 'text', content: 'one' });

    const retry = await send(a, g.id, text('one, again', 'id-one'));
    expect(retry.status).toBe(201);
    expect(retry.body).toMatchObject({ id: sent[0].id, seq: 1, content: 'one' });

    const all = await api('GET', `${C}/${g.id}/messages`, { token: b.accessToken });
    expect(all.status).toBe(200);
    expect(all.body.items.map((m: any) => m.content)).toEqual(['one', 'two', 'three', 'four']);
    expect(all.body.nextCursor).toBeNull();
    const newest = await api('GET', `${C}/${g.id}/messages?limit=2`, { token: b.accessToken });
    expect(newest.body.items.map((m: any) => m.seq)).toEqual([3, 4]);
    const before = await api('GET', `${C}/${g.id}/messages?beforeSeq=3&limit=1`, { token: b.accessToken });
    expect(before.body.items.map((m: any) => m.seq)).toEqual([2]);
    const after = await api('GET', `${C}/${g.id}/messages?afterSeq=1&limit=2`, { token: b.accessToken });
    expect(after.body.items.map((m: any) => m.seq)).toEqual([2, 3]);
  });

  it('refuses bad messages and queries with 400 and stores nothing', async () => {
    const [a, b] = await users(2);
    const g = await group(a, [b]);
    const bad = [
      { clientMsgId: 'x1', type: 'text', content: '   ' },
      { clientMsgId: 'x2', type: 'text', content: 'a'.repeat(4001) },
      { clientMsgId: 'x3', type: 'text', content: 'hi', fileId: 'f1' },
      { clientMsgId: 'x4', type: 'image', content: { width: 10 } },
      { clientMsgId: 'x5', type: 'sticker', content: 'hi' },
      { clientMsgId: 'x6', type: 'text', content: 'hi', extra: true },
      { type: 'text', content: 'hi' },
    ];
    for (const body of bad) expectError(await send(a, g.id, body), 400, 'validation_failed');
    for (const q of ['limit=101', 'limit=0', 'afterSeq=-1', 'beforeSeq=abc', 'afterSeq=5&beforeSeq=3', 'foo=1']) {
      expectError(await api('GET', `${C}/${g.id}/messages?${q}`, { token: a.accessToken }), 400, 'validation_failed');
    }
    for (const body of [{}, { seq: -1 }, { seq: 1.5 }, { seq: 1, extra: 1 }]) {
      expectError(await api('POST', `${C}/${g.id}/read`, { token: a.accessToken, body }), 400, 'validation_failed');
    }
    expect((await get(a, g.id)).body.lastSeq).toBe(0);
    expect((await api('GET', `${C}/${g.id}/messages`, { token: a.accessToken })).body.items).toEqual([]);
  });

  it('strangers get 403 not_member and unknown conversations 404 on every message route', async () => {
    const [a, b, x] = await users(3);
    const g = await group(a, [b]);
    const unknown = '0193a5b2-7c1e-7d3a-9f00-eeeeeeeeeeee';
    for (const [id, status, code] of [[g.id, 403, 'not_member'], [unknown, 404, 'not_found']] as const) {
      expectError(await send(x, id, text('hi')), status, code);
      expectError(await api('GET', `${C}/${id}/messages`, { token: x.accessToken }), status, code);
      expectError(await api('POST', `${C}/${id}/read`, { token: x.accessToken, body: { seq: 1 } }), status, code);
    }
    expect((await get(a, g.id)).body.lastSeq).toBe(0);
  });

  it('tracks read cursors: unreadCount and lastMessage in the conversation and in the list', async () => {
    const [a, b] = await users(2);
    const g = await group(a, [b]);
    for (const word of ['one', 'two', 'three']) expect((await send(a, g.id, text(word))).status).toBe(201);

    const forB = await get(b, g.id);
    expect(forB.body).toMatchObject({ lastSeq: 3, unreadCount: 3, lastMessage: { seq: 3, content: 'three' } });
    expect((await get(a, g.id)).body.unreadCount).toBe(0); // sending counts as reading

    expect((await api('POST', `${C}/${g.id}/read`, { token: b.accessToken, body: { seq: 2 } })).status).toBe(204);
    expect((await get(b, g.id)).body.unreadCount).toBe(1);
    expect((await api('POST', `${C}/${g.id}/read`, { token: b.accessToken, body: { seq: 1 } })).status).toBe(204);
    expect((await get(b, g.id)).body.unreadCount).toBe(1); // never backwards

    const item = (await eventually(() => listed(b), (xs) => xs.some((i) => i.id === g.id && i.lastSeq === 3 && i.unreadCount === 1))).find((i) => i.id === g.id);
    expect(item).toMatchObject({ lastSeq: 3, unreadCount: 1, lastMessage: { seq: 3, content: 'three' } });
    expect((await api('POST', `${C}/${g.id}/read`, { token: b.accessToken, body: { seq: 99 } })).status).toBe(204);
    expect((await get(b, g.id)).body.unreadCount).toBe(0);
  });

  it('lists conversations newest activity first, paged by cursor', async () => {
    const [a, b] = await users(2);
    const first = await group(a, [b], 'first');
    const second = await group(a, [b], 'second');
    const third = await group(a, [b], 'third');
    expect((await send(b, first.id, text('bump'))).status).toBe(201);
    const ids = [first.id, third.id, second.id];
    const items = await eventually(() => listed(a), (xs) => xs.map((i) => i.id).join() === ids.join());
    expect(items.map((i) => i.id)).toEqual(ids);

    const p1 = await api('GET', `${C}?limit=2`, { token: a.accessToken });
    expect(p1.body.items.map((i: any) => i.id)).toEqual(ids.slice(0, 2));
    expect(typeof p1.body.nextCursor).toBe('string');
    const p2 = await api('GET', `${C}?limit=2&cursor=${encodeURIComponent(p1.body.nextCursor)}`, { token: a.accessToken });
    expect(p2.body.items.map((i: any) => i.id)).toEqual(ids.slice(2));
    expect(p2.body.nextCursor).toBeNull();
    expectError(await api('GET', `${C}?limit=0`, { token: a.accessToken }), 400, 'validation_failed');
    expectError(await api('GET', `${C}?limit=101`, { token: a.accessToken }), 400, 'validation_failed');
    expectError(await api('GET', `${C}?cursor=${encodeURIComponent('!not a cursor!')}`, { token: a.accessToken }), 400, 'validation_failed');
  });
});

describe('live-view socket', () => {
  it('is open to members only and carries the conversation’s messages', async () => {
    const [a, b, x] = await users(3);
    const g = await group(a, [b]);
    const path = `${C}/${g.id}/ws`;
    await expect(Socket.open({ token: x.accessToken, path })).rejects.toThrow(/403/);
    await expect(Socket.open({ token: a.accessToken, path: `${C}/0193a5b2-7c1e-7d3a-9f00-dddddddddddd/ws` })).rejects.toThrow(/404/);
    await expect(Socket.open({ path })).rejects.toThrow(/401/);
    const view = await Socket.open({ token: b.accessToken, path });
    try {
      expect((await send(a, g.id, text('live'))).status).toBe(201);
      const f = await view.next((x) => x.type === 'message.new');
      expect(f.message).toMatchObject({ conversationId: g.id, seq: 1, content: 'live' });
    } finally {
      await view.close();
    }
  });
});

describe('presence query', () => {
  it('answers for every id asked, offline and never seen by default', async () => {
    const [a, b] = await users(2);
    const res = await api('POST', '/api/v1/presence/query', { token: a.accessToken, body: { userIds: [b.user.id, b.user.id, 'nobody'] } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ presence: { [b.user.id]: { online: false, lastSeenAt: null }, nobody: { online: false, lastSeenAt: null } } });
  });

  it('shows a connected friend online', async () => {
    const [a, b] = await users(2);
    await makeFriends(a, b);
    const sock = await Socket.connect({ token: b.accessToken, deviceId: 'b-phone' });
    try {
      const res = await eventually(
        () => api('POST', '/api/v1/presence/query', { token: a.accessToken, body: { userIds: [b.user.id] } }),
        (r) => r.body?.presence?.[b.user.id]?.online === true,
      );
      expect(res.body.presence[b.user.id].online).toBe(true);
      expect(res.body.presence[b.user.id].lastSeenAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    } finally {
      await sock.close();
    }
  });

  it('validates: 1 to 200 ids, nothing else, and a token', async () => {
    const [a] = await users(1);
    const q = (body: unknown, token = a.accessToken) => api('POST', '/api/v1/presence/query', { token, body });
    expectError(await q({ userIds: Array.from({ length: 201 }, (_, i) => `u${i}`) }), 400, 'validation_failed');
    expectError(await q({ userIds: [] }), 400, 'validation_failed');
    expectError(await q({ userIds: ['a'], extra: 1 }), 400, 'validation_failed');
    expectError(await q({ userIds: 'a' }), 400, 'validation_failed');
    expectError(await q({ userIds: ['a'] }, ''), 401, 'unauthenticated');
    expect((await q({ userIds: Array.from({ length: 200 }, (_, i) => `u${i}`) })).status).toBe(200);
  });
});
