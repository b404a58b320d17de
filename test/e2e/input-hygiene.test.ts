/**
 * No string the API accepts may hold U+0000 or a lone surrogate (API.md § Limits):
 * Postgres refuses the first in `text` and `jsonb`, `jsonb` the second. Every such
 * input must be 400 `validation_failed` and change nothing — never a 500, never an
 * acked message that Postgres will refuse later.
 */
import { describe, expect, it } from 'vitest';
import { api, befriend, register, uniqueName } from './client.ts';
import { Socket } from './ws-client.ts';

const BAD = { nul: 'a\u0000b', surrogate: 'a\ud800b' } as const;

function expectRefused(res: { status: number; body: any }) {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status: 400, code: 'validation_failed' });
}

describe.each(Object.entries(BAD))('a string with %s', (_kind, bad) => {
  it('is refused in register (username, password, nickname, email) and creates nothing', async () => {
    const username = uniqueName();
    for (const body of [
      { username: `${username}${bad}`, password: 'correct horse battery' },
      { username, password: `correct horse${bad}` },
      { username, password: 'correct horse battery', nickname: `Al${bad}` },
      { username, password: 'correct horse battery', email: `a${bad}@example.test`, code: '123456' },
    ]) {
      expectRefused(await api('POST', '/api/v1/auth/register', { body }));
    }
    const login = await api('POST', '/api/v1/auth/login', { body: { login: username, password: 'correct horse battery' } });
    expect(login.status).toBe(401);
  });

  it('is refused in login, refresh, password change, reset and send-code', async () => {
    const a = await register();
    expectRefused(await api('POST', '/api/v1/auth/login', { body: { login: `${a.user.username}${bad}`, password: a.password } }));
    expectRefused(await api('POST', '/api/v1/auth/login', { body: { login: a.user.username, password: `${a.password}${bad}` } }));
    expectRefused(await api('POST', '/api/v1/auth/refresh', { body: { refreshToken: `${a.refreshToken}${bad}` } }));
    expectRefused(await api('POST', '/api/v1/auth/password', { token: a.accessToken, body: { oldPassword: `x${bad}`, newPassword: 'another horse battery' } }));
    expectRefused(await api('POST', '/api/v1/auth/password', { token: a.accessToken, body: { oldPassword: a.password, newPassword: `another horse${bad}` } }));
    expectRefused(await api('POST', '/api/v1/auth/reset-password', { body: { email: 'a@example.test', code: '123456', newPassword: `another horse${bad}` } }));
    expectRefused(await api('POST', '/api/v1/auth/send-code', { body: { email: `a${bad}@example.test`, purpose: 'register' } }));
    // The password is unchanged: the old one still signs in.
    expect((await api('POST', '/api/v1/auth/login', { body: { login: a.user.username, password: a.password } })).status).toBe(200);
  });

  it('is refused in a profile (nickname, bio) and leaves it as it was', async () => {
    const a = await register();
    expectRefused(await api('PATCH', '/api/v1/users/me', { token: a.accessToken, body: { nickname: `Al${bad}` } }));
    expectRefused(await api('PATCH', '/api/v1/users/me', { token: a.accessToken, body: { bio: `hi${bad}` } }));
    const me = await api('GET', '/api/v1/users/me', { token: a.accessToken });
    expect(me.body.nickname).toBe(a.user.username);
    expect(me.body.bio).toBeUndefined();
  });

  it('is refused in query strings and path ids (search q, ids, cursors, presence ids)', async () => {
    const a = await register();
    // A lone surrogate cannot travel in a URL (it has no UTF-8 form): only U+0000 is tried there.
    if (bad === BAD.nul) {
      const q = encodeURIComponent(`al${bad}`);
      expectRefused(await api('GET', `/api/v1/users/search?q=${q}`, { token: a.accessToken }));
      expectRefused(await api('GET', `/api/v1/users?ids=${q}`, { token: a.accessToken }));
      expectRefused(await api('GET', `/api/v1/friends?cursor=${q}`, { token: a.accessToken }));
      expectRefused(await api('GET', `/api/v1/friends/requests?cursor=${q}`, { token: a.accessToken }));
      expectRefused(await api('GET', `/api/v1/conversations/${q}/messages`, { token: a.accessToken }));
    }
    expectRefused(await api('POST', '/api/v1/presence/query', { token: a.accessToken, body: { userIds: [`u${bad}`] } }));
  });

  it('is refused in a friend request message, and no request is made', async () => {
    const [a, b] = await Promise.all([register(), register()]);
    expectRefused(await api('POST', '/api/v1/friends/requests', { token: a.accessToken, body: { toUserId: b.user.id, message: `hi${bad}` } }));
    expect((await api('GET', '/api/v1/friends/requests?direction=incoming', { token: b.accessToken })).body.items).toEqual([]);
  });

  it('is refused in a group name, an announcement, member ids, message text, clientMsgId and edits (REST and WS)', async () => {
    const [a, b] = await Promise.all([register(), register()]);
    await befriend(a, b);
    expectRefused(await api('POST', '/api/v1/conversations', { token: a.accessToken, body: { kind: 'group', name: `team${bad}`, memberIds: [b.user.id] } }));
    expectRefused(await api('POST', '/api/v1/conversations', { token: a.accessToken, body: { kind: 'single', peerId: `${b.user.id}${bad}` } }));
    const created = await api('POST', '/api/v1/conversations', { token: a.accessToken, body: { kind: 'group', name: 'team', memberIds: [b.user.id] } });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expectRefused(await api('PATCH', `/api/v1/conversations/${id}`, { token: a.accessToken, body: { announcement: `hello${bad}` } }));
    expectRefused(await api('PATCH', `/api/v1/conversations/${id}`, { token: a.accessToken, body: { name: `new${bad}` } }));
    expectRefused(await api('POST', `/api/v1/conversations/${id}/members`, { token: a.accessToken, body: { userIds: [`x${bad}`] } }));

    const send = (body: unknown) => api('POST', `/api/v1/conversations/${id}/messages`, { token: a.accessToken, body });
    expectRefused(await send({ clientMsgId: 'c-1', type: 'text', content: `hi${bad}` }));
    expectRefused(await send({ clientMsgId: `c${bad}`, type: 'text', content: 'hi' }));

    const sock = await Socket.open({ token: a.accessToken, deviceId: 'hygiene' });
    try {
      sock.send({ type: 'message.send', conversationId: id, clientMsgId: 'c-ws', msgType: 'text', content: `hi${bad}` });
      expect(await sock.nextOfType('error')).toMatchObject({ code: 'validation_failed' });
      sock.send({ type: 'sync', cursors: { [`x${bad}`]: 0 } });
      expect(await sock.nextOfType('error')).toMatchObject({ code: 'validation_failed' });
    } finally {
      await sock.close();
    }
    // Nothing was stored: the conversation is as it was created, with no message.
    const conv = await api('GET', `/api/v1/conversations/${id}`, { token: a.accessToken });
    expect(conv.body.name).toBe('team');
    expect(conv.body.announcement).toBeUndefined();
    expect((await api('GET', `/api/v1/conversations/${id}/messages`, { token: a.accessToken })).body.items).toEqual([]);

    // An edit of a real message, and a reaction, are refused the same way; the message keeps its text.
    const sent = await send({ clientMsgId: 'c-ok', type: 'text', content: 'hello' });
    expect(sent.status).toBe(201);
    expectRefused(await api('PATCH', `/api/v1/conversations/${id}/messages/${sent.body.seq}`, { token: a.accessToken, body: { content: `hi${bad}` } }));
    const messages = await api('GET', `/api/v1/conversations/${id}/messages`, { token: a.accessToken });
    expect(messages.body.items.map((m: any) => m.content)).toEqual(['hello']);
  });
});
