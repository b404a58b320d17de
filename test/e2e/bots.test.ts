/**
 * Bots and incoming webhooks end to end: bot tokens on the REST API (rotated
 * and deleted tokens are 401 at once), what bots may not do (befriend, be
 * befriended, /auth/*), bots in their owner's groups and single chats, a
 * bot's webhookUrl receiving its conversations (signed), and incoming
 * webhooks posting as their bot, revoked at once, rate limited.
 */
import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import { api, befriend, createGroup, register, uniqueName, type Account } from './client.ts';
import { Receiver } from './receiver.ts';

const C = '/api/v1/conversations';
const receivers: Receiver[] = [];
afterAll(() => Promise.all(receivers.map((r) => r.close())));

function expectError(res: { status: number; body: any }, status: number, code: string) {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
}

const makeBot = (owner: Account, body: Record<string, unknown> = {}) => api('POST', '/api/v1/bots', { token: owner.accessToken, body: { username: uniqueName('bot'), ...body } });
let n = 0;
const text = (content: string) => ({ clientMsgId: `b${++n}-${Date.now()}`, type: 'text', content });

describe('bots and their tokens', () => {
  it('a bot is a user with isBot; its token works on REST; a rotated or deleted token is refused at once', async () => {
    const owner = await register();
    const created = await makeBot(owner, { nickname: 'Deploy bot' });
    expect(created.status).toBe(201);
    expect(created.body.bot).toMatchObject({ isBot: true, nickname: 'Deploy bot' });
    expect(created.body.token).toMatch(/^bhb_[A-Za-z0-9_-]{43}$/);
    expect(created.body.webhookSecret).toBeUndefined();
    const botId = created.body.bot.id;
    const me = await api('GET', '/api/v1/users/me', { token: created.body.token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: botId, isBot: true });
    expect((await api('GET', `/api/v1/users/${botId}`, { token: owner.accessToken })).body).toMatchObject({ isBot: true });
    expect((await api('GET', `/api/v1/users/${owner.user.id}`, { token: owner.accessToken })).body.isBot).toBeUndefined();

    const rotated = await api('POST', `/api/v1/bots/${botId}/rotate-token`, { token: owner.accessToken });
    expect(rotated.status).toBe(200);
    expectError(await api('GET', '/api/v1/users/me', { token: created.body.token }), 401, 'unauthenticated');
    expect((await api('GET', '/api/v1/users/me', { token: rotated.body.token })).status).toBe(200);

    expect((await api('DELETE', `/api/v1/bots/${botId}`, { token: owner.accessToken })).status).toBe(204);
    expectError(await api('GET', '/api/v1/users/me', { token: rotated.body.token }), 401, 'unauthenticated');
    expectError(await api('DELETE', `/api/v1/bots/${botId}`, { token: owner.accessToken }), 404, 'not_found');
    expectError(await api('GET', '/api/v1/users/me', { token: 'bhb_not-a-token' }), 401, 'unauthenticated');
  });

  it('only its owner may rotate or delete it (others: 404); a bot cannot make bots; usernames are shared with people', async () => {
    const [owner, other] = await Promise.all([register(), register()]);
    const { body } = await makeBot(owner);
    expectError(await api('POST', `/api/v1/bots/${body.bot.id}/rotate-token`, { token: other.accessToken }), 404, 'not_found');
    expectError(await api('DELETE', `/api/v1/bots/${body.bot.id}`, { token: other.accessToken }), 404, 'not_found');
    expectError(await api('DELETE', `/api/v1/bots/${owner.user.id}`, { token: owner.accessToken }), 404, 'not_found');
    expect((await api('GET', '/api/v1/users/me', { token: body.token })).status).toBe(200);
    expectError(await api('POST', '/api/v1/bots', { token: body.token, body: { username: uniqueName('bot') } }), 403, 'not_for_bots');
    expectError(await makeBot(owner, { username: owner.user.username }), 409, 'username_taken');
    expectError(await makeBot(owner, { webhookUrl: 'https://10.0.0.5/hook' }), 400, 'validation_failed');
    expectError(await makeBot(owner, { username: 'x' }), 400, 'validation_failed');
    // No password signs in as a bot.
    expectError(await api('POST', '/api/v1/auth/login', { body: { login: body.bot.username, password: '!bot' } }), 401, 'invalid_credentials');
  });

  it('cannot befriend or be befriended, and cannot use /auth/*', async () => {
    const owner = await register();
    const { body } = await makeBot(owner);
    expectError(await api('POST', '/api/v1/friends/requests', { token: owner.accessToken, body: { toUserId: body.bot.id } }), 403, 'not_for_bots');
    expectError(await api('POST', '/api/v1/friends/requests', { token: body.token, body: { toUserId: owner.user.id } }), 403, 'not_for_bots');
    for (const [method, path, reqBody] of [
      ['POST', '/api/v1/auth/logout', {}], ['POST', '/api/v1/auth/ws-ticket', undefined], ['POST', '/api/v1/auth/password', { oldPassword: 'x', newPassword: 'yyyyyyyy' }],
      ['POST', '/api/v1/auth/refresh', { refreshToken: 'x' }],
    ] as const) {
      expectError(await api(method, path, { token: body.token, body: reqBody }), 403, 'not_for_bots');
    }
    expect((await api('GET', '/api/v1/users/me', { token: body.token })).status).toBe(200);
  });
});

describe('bots in conversations', () => {
  it('its owner adds it to groups and chats with it one to one; nobody else can pull it in; it posts over REST', async () => {
    const [owner, friend, stranger] = await Promise.all([register(), register(), register()]);
    const { body: bot } = await makeBot(owner);
    const group = await createGroup(owner, [friend]);
    expectError(await api('POST', `${C}/${group.id}/members`, { token: friend.accessToken, body: { userIds: [bot.bot.id] } }), 403, 'forbidden');
    expect((await api('POST', `${C}/${group.id}/members`, { token: owner.accessToken, body: { userIds: [bot.bot.id] } })).status).toBe(200);
    const posted = await api('POST', `${C}/${group.id}/messages`, { token: bot.token, body: text('beep') });
    expect(posted.status).toBe(201);
    expect(posted.body.senderId).toBe(bot.bot.id);
    const history = await api('GET', `${C}/${group.id}/messages`, { token: friend.accessToken });
    expect(history.body.items.map((m: any) => [m.senderId, m.content])).toEqual([[bot.bot.id, 'beep']]);

    const single = await api('POST', C, { token: owner.accessToken, body: { kind: 'single', peerId: bot.bot.id } });
    expect(single.status).toBe(201);
    expect((await api('POST', C, { token: bot.token, body: { kind: 'single', peerId: owner.user.id } })).body.id).toBe(single.body.id);
    // Someone else's bot is a stranger.
    await befriend(stranger, friend);
    expectError(await api('POST', C, { token: stranger.accessToken, body: { kind: 'group', name: 'g', memberIds: [bot.bot.id] } }), 403, 'not_friends');
    expectError(await api('POST', C, { token: stranger.accessToken, body: { kind: 'single', peerId: bot.bot.id } }), 403, 'not_friends');
  });

  it('a bot with a webhookUrl receives what its conversations deliver, signed with its webhookSecret, but not its own messages', async () => {
    const [owner, friend] = await Promise.all([register(), register()]);
    const r = await Receiver.start();
    receivers.push(r);
    const { body: bot } = await makeBot(owner, { webhookUrl: r.url });
    expect(bot.webhookSecret).toMatch(/^whsec_/);
    const group = await createGroup(owner, [friend]);
    expect((await api('POST', `${C}/${group.id}/members`, { token: owner.accessToken, body: { userIds: [bot.bot.id] } })).status).toBe(200);
    r.respond = (x, attempt) => (x.json?.message?.content === 'one' && attempt === 1 ? 503 : 200);
    await api('POST', `${C}/${group.id}/messages`, { token: friend.accessToken, body: text('one') });
    await api('POST', `${C}/${group.id}/messages`, { token: bot.token, body: text('my own') });
    await api('POST', `${C}/${group.id}/messages`, { token: owner.accessToken, body: text('two') });
    await r.until(() => r.delivered().length >= 3);
    const got = r.delivered().map((x) => new Webhook(bot.webhookSecret).verify(x.body, x.headers as Record<string, string>) as any);
    expect(got.map((p) => [p.type, p.seq, p.event?.kind ?? p.message.content])).toEqual([
      ['conversation.event', 1, 'member.joined'], ['message.new', 2, 'one'], ['message.new', 4, 'two'],
    ]);
    expect(r.received.filter((x) => x.json.seq === 2).map((x) => x.status)).toEqual([503, 200]);
    expect(new Set(r.received.filter((x) => x.json.seq === 2).map((x) => x.headers['webhook-id'])).size).toBe(1);
  });
});

describe('incoming webhooks', () => {
  it('posts text as its own bot user, dedupes by Idempotency-Key, and stops at once when deleted (its bot leaves)', async () => {
    const [owner, member] = await Promise.all([register(), register()]);
    const group = await createGroup(owner, [member]);
    expectError(await api('POST', `${C}/${group.id}/incoming-webhooks`, { token: member.accessToken, body: { name: 'CI' } }), 403, 'forbidden');
    const created = await api('POST', `${C}/${group.id}/incoming-webhooks`, { token: owner.accessToken, body: { name: 'CI' } });
    expect(created.status).toBe(201);
    const { url, id, botId } = created.body;
    expect(url).toMatch(/\/api\/v1\/hooks\/[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/);
    const path = new URL(url).pathname;
    const conv = await api('GET', `${C}/${group.id}`, { token: member.accessToken });
    expect(conv.body.members.map((m: any) => m.userId)).toContain(botId);
    expect((await api('GET', `/api/v1/users/${botId}`, { token: member.accessToken })).body).toMatchObject({ isBot: true, nickname: 'CI' });

    const posted = await api('POST', path, { body: { text: 'build passed' }, headers: { 'idempotency-key': 'build-42' } });
    expect(posted.status).toBe(201);
    expect(posted.body).toMatchObject({ senderId: botId, content: 'build passed', clientMsgId: 'build-42', type: 'text' });
    const again = await api('POST', path, { body: { text: 'build passed' }, headers: { 'idempotency-key': 'build-42' } });
    expect(again.status).toBe(200);
    expect(again.body.seq).toBe(posted.body.seq);
    const history = await api('GET', `${C}/${group.id}/messages`, { token: member.accessToken });
    expect(history.body.items.map((m: any) => [m.senderId, m.content])).toEqual([[botId, 'build passed']]);

    for (const bad of [{}, { text: '' }, { text: 'x'.repeat(4001) }, { text: 5 }, { text: 'hi', extra: 1 }, { text: 'nul\u0000byte' }, { text: 'lone \ud800' }]) {
      expectError(await api('POST', path, { body: bad }), 400, 'validation_failed');
    }
    expectError(await api('POST', path.replace(/\.[^.]+$/, '.' + 'A'.repeat(43)), { body: { text: 'forged' } }), 404, 'not_found');
    const listed = await api('GET', `${C}/${group.id}/incoming-webhooks`, { token: owner.accessToken });
    expect(listed.body.items).toEqual([expect.objectContaining({ id, name: 'CI', botId })]);
    expect(JSON.stringify(listed.body)).not.toContain(path.split('.').at(-1)!);

    expectError(await api('DELETE', `${C}/${group.id}/incoming-webhooks/${id}`, { token: member.accessToken }), 403, 'forbidden');
    expect((await api('DELETE', `${C}/${group.id}/incoming-webhooks/${id}`, { token: owner.accessToken })).status).toBe(204);
    expectError(await api('POST', path, { body: { text: 'too late' } }), 404, 'not_found');
    const after = await api('GET', `${C}/${group.id}`, { token: member.accessToken });
    expect(after.body.members.map((m: any) => m.userId)).not.toContain(botId);
    expectError(await api('DELETE', `${C}/${group.id}/incoming-webhooks/${id}`, { token: owner.accessToken }), 404, 'not_found');
  });

  it('is for groups, managed by their owner or admins; strangers get 403 not_member', async () => {
    const [a, b, stranger] = await Promise.all([register(), register(), register()]);
    await befriend(a, b);
    const single = await api('POST', C, { token: a.accessToken, body: { kind: 'single', peerId: b.user.id } });
    expectError(await api('POST', `${C}/${single.body.id}/incoming-webhooks`, { token: a.accessToken, body: { name: 'x' } }), 400, 'validation_failed');
    const group = await createGroup(a, [b]);
    expectError(await api('POST', `${C}/${group.id}/incoming-webhooks`, { token: stranger.accessToken, body: { name: 'x' } }), 403, 'not_member');
    expectError(await api('POST', `${C}/${group.id}/incoming-webhooks`, { token: a.accessToken, body: { name: '' } }), 400, 'validation_failed');
  });

  it('is rate limited per hook (429 with Retry-After)', async () => {
    const owner = await register();
    const member = await register();
    const group = await createGroup(owner, [member]);
    const { body } = await api('POST', `${C}/${group.id}/incoming-webhooks`, { token: owner.accessToken, body: { name: 'noisy' } });
    const path = new URL(body.url).pathname;
    const statuses: number[] = [];
    let limited: any;
    for (let i = 0; i < 35 && !limited; i++) {
      const res = await api('POST', path, { body: { text: `ping ${i}` } });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(statuses.slice(0, 30).every((s) => s === 201)).toBe(true);
    expectError(limited, 429, 'rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
