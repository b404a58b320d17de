/**
 * Friends end to end: requests (rules, expiry, answers), the friend list with
 * presence, unfriending, blocks; authorization, concurrency and bad input.
 *
 * Time: instead of waiting days, tests backdate rows in the stack's Postgres
 * (through the same Neon driver and bridge the Worker uses), so the Worker
 * itself has no test-only clock.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { neonConfig, type Pool } from '@neondatabase/serverless';
import { afterAll, describe, expect, it } from 'vitest';
import ws from 'ws';
import { connect } from '../../db/client.ts';
import { api, expectError, register, stack, type Account } from './client.ts';
import { Socket } from './ws-client.ts';

const F = '/api/v1/friends';
const R = `${F}/requests`;
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const HOUR = 3600_000;

// --- the stack's Postgres, for moving time -----------------------------------

let pool: Pool | undefined;

/** The Worker's own database settings, from the env file the test stack wrote for it. */
async function stackDb(): Promise<Pool> {
  if (pool) return pool;
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const envFile = await readFile(path.join(root, '.beehive', `test-${stack.mode}`, 'worker.env'), 'utf8');
  const vars = Object.fromEntries(envFile.split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).replace(/^'|'$/g, '')]));
  neonConfig.webSocketConstructor = ws;
  pool = connect({ databaseUrl: vars.DATABASE_URL!, wsProxy: vars.NEON_WS_PROXY }).pool;
  return pool;
}
afterAll(async () => {
  await pool?.end();
});

/** Moves a request `ms` into the past: as if it had been sent that long ago. */
async function age(requestId: string, ms: number): Promise<void> {
  const res = await (await stackDb()).query(
    `UPDATE friend_requests SET created_at = created_at - $2 * interval '1 millisecond', expires_at = expires_at - $2 * interval '1 millisecond' WHERE id = $1`,
    [requestId, ms],
  );
  expect(res.rowCount).toBe(1);
}

async function rows(sql: string, params: unknown[]): Promise<any[]> {
  return (await (await stackDb()).query(sql, params)).rows;
}

// --- helpers -------------------------------------------------------------------

/** `n` fresh users; with `email`, they have one (to check it never leaks). Typed so up to three can be destructured. */
async function users(n: number, email = false): Promise<[Account, Account, Account, ...Account[]]> {
  return (await Promise.all(Array.from({ length: n }, () => register({ email })))) as [Account, Account, Account, ...Account[]];
}

const send = (from: Account, to: Account | string, message?: string) =>
  api('POST', R, { token: from.accessToken, body: { toUserId: typeof to === 'string' ? to : to.user.id, ...(message !== undefined ? { message } : {}) } });
const accept = (who: Account, id: string) => api('POST', `${R}/${id}/accept`, { token: who.accessToken });
const reject = (who: Account, id: string) => api('POST', `${R}/${id}/reject`, { token: who.accessToken });
const incoming = async (who: Account) => (await api('GET', `${R}?direction=incoming`, { token: who.accessToken })).body.items as any[];
const outgoing = async (who: Account) => (await api('GET', `${R}?direction=outgoing`, { token: who.accessToken })).body.items as any[];
const friendIds = async (who: Account) => ((await api('GET', `${F}?limit=100`, { token: who.accessToken })).body.items as any[]).map((f) => f.user.id);

async function befriend(a: Account, b: Account): Promise<void> {
  const sent = await send(a, b);
  expect(sent.status).toBe(201);
  expect((await accept(b, sent.body.request.id)).status).toBe(200);
}

// --- tests -----------------------------------------------------------------------

describe('sending requests', () => {
  it('sends a request that both sides see, and nobody else', async () => {
    const [alice, bob, carol] = await users(3);
    const res = await send(alice, bob, 'Hi Bob, it is Alice');
    expect(res.status).toBe(201);
    const request = res.body.request;
    expect(request).toMatchObject({ fromUserId: alice.user.id, toUserId: bob.user.id, message: 'Hi Bob, it is Alice', status: 'pending' });
    expect(request.createdAt).toMatch(ISO_MS);
    expect(request.expiresAt).toMatch(ISO_MS);
    expect(Date.parse(request.expiresAt) - Date.parse(request.createdAt)).toBe(7 * 24 * HOUR);

    expect(await incoming(bob)).toEqual([request]);
    expect(await outgoing(alice)).toEqual([request]);
    expect(await incoming(alice)).toEqual([]);
    expect(await outgoing(bob)).toEqual([]);
    expect(await incoming(carol)).toEqual([]);
    expect(await outgoing(carol)).toEqual([]);
    // direction defaults to incoming
    expect((await api('GET', R, { token: bob.accessToken })).body).toEqual({ items: [request], nextCursor: null });
  });

  it('a message is optional and at most 200 characters', async () => {
    const [alice, bob, carol] = await users(3);
    const plain = await send(alice, bob);
    expect(plain.status).toBe(201);
    expect(plain.body.request).not.toHaveProperty('message');
    expect((await send(alice, carol, 'm'.repeat(200))).status).toBe(201);
  });

  it.each([
    ['a 201-character message', (to: string) => ({ toUserId: to, message: 'm'.repeat(201) })],
    ['an unknown field', (to: string) => ({ toUserId: to, note: 'hi' })],
    ['a malformed toUserId', () => ({ toUserId: 'bob' })],
    ['no toUserId', () => ({ message: 'hi' })],
    ['a wrong type', (to: string) => ({ toUserId: to, message: 7 })],
  ])('refuses %s with 400 and creates nothing', async (_label, body) => {
    const [alice, bob] = await users(2);
    expectError(await api('POST', R, { token: alice.accessToken, body: body(bob.user.id) }), 400, 'validation_failed');
    expect(await outgoing(alice)).toEqual([]);
    expect(await incoming(bob)).toEqual([]);
  });

  it('refuses a request to yourself (400) and to nobody (404)', async () => {
    const [alice] = await users(1);
    expectError(await send(alice, alice), 400, 'validation_failed');
    expectError(await send(alice, randomUUID()), 404, 'not_found');
    expect(await outgoing(alice)).toEqual([]);
  });

  it('refuses a second request within 24 h (409 duplicate_request)', async () => {
    const [alice, bob] = await users(2);
    const first = await send(alice, bob);
    expectError(await send(alice, bob, 'again?'), 409, 'duplicate_request');
    await age(first.body.request.id, 23 * HOUR);
    expectError(await send(alice, bob, 'again?'), 409, 'duplicate_request');
    expect((await outgoing(alice)).map((r) => r.id)).toEqual([first.body.request.id]);
  });

  it('after 24 h a new request replaces the old one, which can no longer be accepted', async () => {
    const [alice, bob] = await users(2);
    const first = await send(alice, bob, 'first');
    await age(first.body.request.id, 25 * HOUR);
    const second = await send(alice, bob, 'second');
    expect(second.status).toBe(201);
    expect(second.body.request.id).not.toBe(first.body.request.id);
    expect((await incoming(bob)).map((r) => r.message)).toEqual(['second']);
    expect(await rows(`SELECT status FROM friend_requests WHERE id = $1`, [first.body.request.id])).toEqual([{ status: 'expired' }]);
    expectError(await accept(bob, first.body.request.id), 409, 'request_expired');
    expect((await accept(bob, second.body.request.id)).status).toBe(200);
  });

  it('refuses a request between friends (409 already_friends), either way', async () => {
    const [alice, bob] = await users(2);
    await befriend(alice, bob);
    expectError(await send(alice, bob), 409, 'already_friends');
    expectError(await send(bob, alice), 409, 'already_friends');
  });

  it('asking someone who already asked you accepts theirs: one friendship, nothing left pending', async () => {
    const [alice, bob] = await users(2);
    const theirs = await send(alice, bob, 'be my friend');
    const mine = await send(bob, alice, 'yes!');
    expect(mine.status).toBe(201);
    expect(mine.body.request).toMatchObject({ fromUserId: bob.user.id, toUserId: alice.user.id, status: 'accepted', message: 'yes!' });
    expect(await friendIds(alice)).toEqual([bob.user.id]);
    expect(await friendIds(bob)).toEqual([alice.user.id]);
    for (const who of [alice, bob]) {
      expect(await incoming(who)).toEqual([]);
      expect(await outgoing(who)).toEqual([]);
    }
    expectError(await accept(bob, theirs.body.request.id), 409, 'request_not_pending');
  });
});

describe('expiry', () => {
  it('a request older than 7 days is gone from the lists and cannot be accepted; a new one can be sent', async () => {
    const [alice, bob] = await users(2);
    const old = await send(alice, bob);
    await age(old.body.request.id, 7 * 24 * HOUR + 1000);
    expect(await incoming(bob)).toEqual([]);
    expect(await outgoing(alice)).toEqual([]);
    expectError(await accept(bob, old.body.request.id), 409, 'request_expired');
    expectError(await reject(bob, old.body.request.id), 409, 'request_expired');
    // Touching it marked it.
    expect(await rows(`SELECT status FROM friend_requests WHERE id = $1`, [old.body.request.id])).toEqual([{ status: 'expired' }]);
    expect(await friendIds(bob)).toEqual([]);
    const fresh = await send(alice, bob);
    expect(fresh.status).toBe(201);
    expect((await incoming(bob)).map((r) => r.id)).toEqual([fresh.body.request.id]);
  });

  it('an expired request from them does not make your request an accept', async () => {
    const [alice, bob] = await users(2);
    const old = await send(alice, bob);
    await age(old.body.request.id, 8 * 24 * HOUR);
    const mine = await send(bob, alice);
    expect(mine.status).toBe(201);
    expect(mine.body.request.status).toBe('pending');
    expect(await friendIds(bob)).toEqual([]);
    expect(await rows(`SELECT status FROM friend_requests WHERE id = $1`, [old.body.request.id])).toEqual([{ status: 'expired' }]);
  });

  it('a request just under 7 days old is still pending and can be accepted', async () => {
    const [alice, bob] = await users(2);
    const req = await send(alice, bob);
    await age(req.body.request.id, 7 * 24 * HOUR - 60_000);
    expect((await incoming(bob)).map((r) => r.id)).toEqual([req.body.request.id]);
    expect((await accept(bob, req.body.request.id)).status).toBe(200);
  });
});

describe('answering requests', () => {
  it('accepting makes the friendship both ways; the request can then not be answered again', async () => {
    const [alice, bob] = await users(2);
    const req = (await send(alice, bob)).body.request;
    const res = await accept(bob, req.id);
    expect(res.status).toBe(200);
    expect(res.body.request).toMatchObject({ id: req.id, status: 'accepted', fromUserId: alice.user.id, toUserId: bob.user.id });
    expect(await friendIds(alice)).toEqual([bob.user.id]);
    expect(await friendIds(bob)).toEqual([alice.user.id]);
    expect(await incoming(bob)).toEqual([]);
    expectError(await accept(bob, req.id), 409, 'request_not_pending');
    expectError(await reject(bob, req.id), 409, 'request_not_pending');
  });

  it('rejecting makes no friendship; the sender may ask again', async () => {
    const [alice, bob] = await users(2);
    const req = (await send(alice, bob)).body.request;
    const res = await reject(bob, req.id);
    expect(res.status).toBe(200);
    expect(res.body.request.status).toBe('rejected');
    expect(await friendIds(bob)).toEqual([]);
    expect(await outgoing(alice)).toEqual([]);
    expectError(await accept(bob, req.id), 409, 'request_not_pending');
    expect((await send(alice, bob)).status).toBe(201);
  });

  it('only the recipient may answer: the sender and third parties get 404, and nothing changes', async () => {
    const [alice, bob, mallory] = await users(3);
    const req = (await send(alice, bob)).body.request;
    for (const who of [alice, mallory]) {
      expectError(await accept(who, req.id), 404, 'not_found');
      expectError(await reject(who, req.id), 404, 'not_found');
    }
    expect(await incoming(mallory)).toEqual([]);
    expect((await incoming(bob)).map((r) => r.id)).toEqual([req.id]);
    expect(await friendIds(alice)).toEqual([]);
    expect(await friendIds(mallory)).toEqual([]);
  });

  it('404 for an unknown request id, 400 for a malformed one', async () => {
    const [bob] = await users(1);
    expectError(await accept(bob, randomUUID()), 404, 'not_found');
    expectError(await reject(bob, randomUUID()), 404, 'not_found');
    expectError(await accept(bob, 'nope'), 400, 'validation_failed');
  });

  it('request lists page newest first with a stable cursor', async () => {
    const [bob, ...senders] = await users(6);
    const sent: string[] = [];
    for (const s of senders) sent.push((await send(s, bob)).body.request.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: any = await api('GET', `${R}?direction=incoming&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: bob.accessToken });
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((r: any) => r.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...sent].reverse());
  });

  it.each([
    ['an unknown direction', '?direction=sideways'],
    ['limit 0', '?limit=0'],
    ['limit 101', '?limit=101'],
    ['a forged cursor', '?cursor=WyJ4Il0'],
  ])('request list: %s → 400', async (_label, query) => {
    const [bob] = await users(1);
    expectError(await api('GET', `${R}${query}`, { token: bob.accessToken }), 400, 'validation_failed');
  });
});

describe('concurrency', () => {
  it('two simultaneous accepts: one 200, one 409, exactly one friendship', async () => {
    for (let round = 0; round < 3; round++) {
      const [alice, bob] = await users(2);
      const req = (await send(alice, bob)).body.request;
      const results = await Promise.all([accept(bob, req.id), accept(bob, req.id)]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
      expect(results.find((r) => r.status === 409)!.body.error.code).toBe('request_not_pending');
      expect(await friendIds(alice)).toEqual([bob.user.id]);
      expect(await friendIds(bob)).toEqual([alice.user.id]);
      expect(await rows(`SELECT count(*)::int AS n FROM friendships WHERE user_id = ANY($1) OR friend_id = ANY($1)`, [[alice.user.id, bob.user.id]])).toEqual([{ n: 2 }]);
    }
  });

  it('a simultaneous accept and reject: exactly one wins', async () => {
    const [alice, bob] = await users(2);
    const req = (await send(alice, bob)).body.request;
    const [a, r] = await Promise.all([accept(bob, req.id), reject(bob, req.id)]);
    expect([a.status, r.status].sort()).toEqual([200, 409]);
    expect(await friendIds(bob)).toEqual(a.status === 200 ? [alice.user.id] : []);
  });

  it('simultaneous mutual requests: one friendship, no duplicates, nothing pending', async () => {
    for (let round = 0; round < 3; round++) {
      const [alice, bob] = await users(2);
      const [ab, ba] = await Promise.all([send(alice, bob), send(bob, alice)]);
      expect([ab.status, ba.status]).toEqual([201, 201]);
      expect([ab.body.request.status, ba.body.request.status].sort()).toEqual(['accepted', 'pending']);
      expect(await friendIds(alice)).toEqual([bob.user.id]);
      expect(await friendIds(bob)).toEqual([alice.user.id]);
      for (const who of [alice, bob]) {
        expect(await incoming(who)).toEqual([]);
        expect(await outgoing(who)).toEqual([]);
      }
      const pending = await rows(`SELECT count(*)::int AS n FROM friend_requests WHERE status = 'pending' AND (from_user_id = ANY($1) OR to_user_id = ANY($1))`, [[alice.user.id, bob.user.id]]);
      expect(pending).toEqual([{ n: 0 }]);
    }
  });

  it('simultaneous duplicate requests: one 201, one 409', async () => {
    const [alice, bob] = await users(2);
    const results = await Promise.all([send(alice, bob), send(alice, bob)]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    expect(await incoming(bob)).toHaveLength(1);
  });
});

describe('the friend list', () => {
  it('shows friends with presence and without their emails', async () => {
    const [alice, bob, carol] = await users(3, true);
    await befriend(alice, bob);
    await befriend(carol, alice);
    const res = await api('GET', F, { token: alice.accessToken });
    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.items.map((f: any) => f.user.id)).toEqual([carol.user.id, bob.user.id]); // newest friendship first
    for (const f of res.body.items) {
      expect(f).toMatchObject({ online: false, lastSeenAt: null });
      expect(f.since).toMatch(ISO_MS);
      expect(f.user).not.toHaveProperty('email');
      expect(f.user.username).toEqual(expect.any(String));
    }
  });

  it('reports presence from Redis', async () => {
    const [alice, bob, carol] = await users(3);
    await befriend(alice, bob);
    await befriend(alice, carol);
    const seen = '2026-11-20T10:00:00.000Z';
    const redis = (...cmd: string[]) =>
      fetch(stack.redis, { method: 'POST', headers: { authorization: `Bearer ${stack.redisToken}` }, body: JSON.stringify(cmd) });
    await redis('SET', `online:${bob.user.id}`, '1', 'EX', '60');
    await redis('SET', `lastseen:${carol.user.id}`, seen);
    const items = (await api('GET', F, { token: alice.accessToken })).body.items as any[];
    const byId = Object.fromEntries(items.map((f) => [f.user.id, f]));
    expect(byId[bob.user.id].online).toBe(true);
    expect(byId[bob.user.id].lastSeenAt).toMatch(ISO_MS);
    expect(byId[carol.user.id]).toMatchObject({ online: false, lastSeenAt: seen });
  });

  it('pages with a stable cursor', async () => {
    const [me, ...others] = await users(6);
    for (const o of others) await befriend(o, me);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: any = await api('GET', `${F}?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: me.accessToken });
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((f: any) => f.user.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(others.map((o) => o.user.id).reverse());
  });

  it('unfriending removes both sides; a second time, or a stranger, is 404', async () => {
    const [alice, bob, carol] = await users(3);
    await befriend(alice, bob);
    const res = await api('DELETE', `${F}/${bob.user.id}`, { token: alice.accessToken });
    expect(res.status).toBe(204);
    expect(await friendIds(alice)).toEqual([]);
    expect(await friendIds(bob)).toEqual([]);
    expectError(await api('DELETE', `${F}/${bob.user.id}`, { token: alice.accessToken }), 404, 'not_found');
    expectError(await api('DELETE', `${F}/${carol.user.id}`, { token: alice.accessToken }), 404, 'not_found');
    expectError(await api('DELETE', `${F}/not-a-user`, { token: alice.accessToken }), 400, 'validation_failed');
    // They can become friends again.
    await befriend(bob, alice);
    expect(await friendIds(alice)).toEqual([bob.user.id]);
  });

  it('a list query with bad paging → 400', async () => {
    const [me] = await users(1);
    expectError(await api('GET', `${F}?limit=0`, { token: me.accessToken }), 400, 'validation_failed');
    expectError(await api('GET', `${F}?cursor=garbage!`, { token: me.accessToken }), 400, 'validation_failed');
  });
});

describe('blocking', () => {
  const blockU = (who: Account, target: Account | string) => api('POST', `/api/v1/users/${typeof target === 'string' ? target : target.user.id}/block`, { token: who.accessToken });
  const unblockU = (who: Account, target: Account) => api('DELETE', `/api/v1/users/${target.user.id}/block`, { token: who.accessToken });

  it('ends the friendship both ways and stops requests: 403 blocked for them, 409 blocked_by_you for me', async () => {
    const [alice, bob] = await users(2);
    await befriend(alice, bob);
    expect((await blockU(alice, bob)).status).toBe(204);
    expect(await friendIds(alice)).toEqual([]);
    expect(await friendIds(bob)).toEqual([]);
    expectError(await send(bob, alice), 403, 'blocked');
    expectError(await send(alice, bob), 409, 'blocked_by_you');
    expect(await incoming(alice)).toEqual([]);
    expect(await incoming(bob)).toEqual([]);
  });

  it('rejects pending requests both ways', async () => {
    const [alice, bob, carol] = await users(3);
    const toAlice = (await send(bob, alice)).body.request;
    const fromAlice = (await send(alice, carol)).body.request;
    const toCarol = (await send(bob, carol)).body.request;
    expect((await blockU(alice, bob)).status).toBe(204);
    expect((await blockU(carol, alice)).status).toBe(204);
    expectError(await accept(alice, toAlice.id), 409, 'request_not_pending');
    expectError(await accept(carol, fromAlice.id), 409, 'request_not_pending');
    expect(await incoming(alice)).toEqual([]);
    expect(await outgoing(alice)).toEqual([]);
    // Unrelated pairs are untouched.
    expect((await incoming(carol)).map((r) => r.id)).toEqual([toCarol.id]);
  });

  it('is idempotent, and unblocking lets requests through again (nothing ended comes back)', async () => {
    const [alice, bob] = await users(2);
    await befriend(alice, bob);
    expect((await blockU(alice, bob)).status).toBe(204);
    expect((await blockU(alice, bob)).status).toBe(204);
    expect((await unblockU(alice, bob)).status).toBe(204);
    expect((await unblockU(alice, bob)).status).toBe(204);
    expect(await friendIds(alice)).toEqual([]);
    const again = await send(bob, alice);
    expect(again.status).toBe(201);
    expect((await accept(alice, again.body.request.id)).status).toBe(200);
  });

  it('reaches an existing conversation: the blocked side can no longer send in it (403 blocked)', async () => {
    const [alice, bob] = await users(2);
    await befriend(alice, bob);
    const conv = await api('POST', '/api/v1/conversations', { token: bob.accessToken, body: { kind: 'single', peerId: alice.user.id } });
    expect(conv.status).toBeLessThan(300);
    const say = (who: Account, text: string) =>
      api('POST', `/api/v1/conversations/${conv.body.id}/messages`, { token: who.accessToken, body: { clientMsgId: randomUUID(), type: 'text', content: text } });
    expect((await say(bob, 'hello')).status).toBe(201);
    expect((await blockU(alice, bob)).status).toBe(204);
    expectError(await say(bob, 'still there?'), 403, 'blocked');
    expectError(await say(alice, 'bye'), 403, 'blocked');
    expect((await unblockU(alice, bob)).status).toBe(204);
    expect((await say(bob, 'hello again')).status).toBe(201);
  });

  it('each side’s block stands on its own', async () => {
    const [alice, bob] = await users(2);
    await blockU(alice, bob);
    await blockU(bob, alice);
    await unblockU(alice, bob);
    expectError(await send(alice, bob), 403, 'blocked');
    expectError(await send(bob, alice), 409, 'blocked_by_you');
  });

  it('refuses yourself (400), nobody (404) and malformed ids (400)', async () => {
    const [alice] = await users(1);
    expectError(await blockU(alice, alice), 400, 'validation_failed');
    expectError(await blockU(alice, randomUUID()), 404, 'not_found');
    expectError(await blockU(alice, 'nobody'), 400, 'validation_failed');
  });
});

describe('notifications', () => {
  it('pushes friend.request to the recipient and friend.accepted to the sender', async () => {
    const [alice, bob] = await users(2);
    const [aliceWs, bobWs] = await Promise.all([Socket.connect({ token: alice.accessToken, deviceId: 'a1' }), Socket.connect({ token: bob.accessToken, deviceId: 'b1' })]);
    try {
      const req = (await send(alice, bob, 'hello')).body.request;
      expect(await bobWs.nextOfType('friend.request')).toEqual({ type: 'friend.request', request: req });
      await accept(bob, req.id);
      expect(await aliceWs.nextOfType('friend.accepted')).toEqual({ type: 'friend.accepted', userId: bob.user.id });
    } finally {
      aliceWs.ws.close();
      bobWs.ws.close();
    }
  });

  it('a request that accepts theirs tells them: friend.accepted, not friend.request', async () => {
    const [alice, bob] = await users(2);
    const aliceWs = await Socket.connect({ token: alice.accessToken, deviceId: 'a1' });
    try {
      await send(alice, bob);
      await send(bob, alice);
      expect(await aliceWs.nextOfType('friend.accepted')).toEqual({ type: 'friend.accepted', userId: bob.user.id });
      expect(await aliceWs.drain('friend.request')).toEqual([]);
    } finally {
      aliceWs.ws.close();
    }
  });
});

describe('authentication and the API document', () => {
  it.each([
    ['GET', F],
    ['DELETE', `${F}/${randomUUID()}`],
    ['GET', R],
    ['POST', R],
    ['POST', `${R}/${randomUUID()}/accept`],
    ['POST', `${R}/${randomUUID()}/reject`],
  ])('%s %s → 401 without a token', async (method, p) => {
    expectError(await api(method, p, method === 'POST' ? { body: {} } : {}), 401, 'unauthenticated');
  });

  it('/openapi.json documents every friend route', async () => {
    const doc = await api('GET', '/openapi.json');
    const paths = doc.body.paths;
    expect(Object.keys(paths[F] ?? {})).toContain('get');
    expect(Object.keys(paths[`${F}/{userId}`] ?? {})).toContain('delete');
    expect(Object.keys(paths[R] ?? {})).toEqual(expect.arrayContaining(['get', 'post']));
    expect(Object.keys(paths[`${R}/{id}/accept`] ?? {})).toContain('post');
    expect(Object.keys(paths[`${R}/{id}/reject`] ?? {})).toContain('post');
  });
});
