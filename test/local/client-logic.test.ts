/**
 * The client package's own logic, apart from any server: reconnect delays, the one token rotation
 * shared by concurrent requests, and the web client's pure state (threads, conversation counters).
 * (Its behaviour against the real server is test/e2e/client-socket.test.ts and the browser tests.)
 */
import { describe, expect, it } from 'vitest';
import { backoffDelay, HttpClient, memoryTokens, type Message } from '../../client/index.ts';
import { withNewMessage } from '../../web/state/conversations.ts';
import { EMPTY_THREAD, lastOwn, mergeMessages, withEvent, withEvents, withMessage, withPage } from '../../web/state/threads.ts';

describe('backoffDelay', () => {
  it('grows exponentially up to the cap, with full jitter below the ceiling', () => {
    const ceilings = [0, 1, 2, 3, 10, 20].map((a) => backoffDelay(a, { initialMs: 500, maxMs: 30_000 }, () => 1));
    expect(ceilings).toEqual([500, 1000, 2000, 4000, 30_000, 30_000]);
    expect(backoffDelay(3, {}, () => 0)).toBe(0);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(4, { initialMs: 100 });
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(1600);
    }
  });
});

describe('HttpClient token renewal', () => {
  /** A stand-in for the two routes involved, answering as API.md says the server does. */
  function server() {
    const calls: string[] = [];
    let valid = 'access-1';
    let refresh = 'refresh-1';
    const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const url = new URL(String(input));
      calls.push(url.pathname);
      const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
      if (url.pathname === '/api/v1/auth/refresh') {
        const body = JSON.parse(String(init?.body)) as { refreshToken: string };
        if (body.refreshToken !== refresh) return json(401, { error: { code: 'session_revoked', message: 'reused' } });
        const n = Number(refresh.split('-')[1]) + 1;
        [valid, refresh] = [`access-${n}`, `refresh-${n}`];
        return json(200, { accessToken: valid, refreshToken: refresh, expiresIn: 900 });
      }
      const auth = new Headers(init?.headers).get('authorization');
      if (auth !== `Bearer ${valid}`) return json(401, { error: { code: 'token_expired', message: 'expired' } });
      return json(200, { ok: true });
    };
    return { calls, fetch, expire: () => (valid = 'nobody-has-this') };
  }

  it('renews once for concurrent requests, then retries each with the new token', async () => {
    const s = server();
    const tokens = memoryTokens({ accessToken: 'access-1', refreshToken: 'refresh-1', expiresIn: 900 });
    const http = new HttpClient({ baseUrl: 'http://api.test', tokens, fetch: s.fetch as typeof fetch });
    await http.request('GET', '/users/me');
    s.expire();
    // The server now refuses access-1 as expired; rotating refresh-1 issues access-2.
    const results = await Promise.all([http.request('GET', '/users/me'), http.request('GET', '/friends'), http.request('GET', '/conversations')]);
    expect(results).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    expect(s.calls.filter((c) => c === '/api/v1/auth/refresh')).toHaveLength(1);
    expect(tokens.get()?.refreshToken).toBe('refresh-2');
  });

  it('a refused rotation signs out: the tokens are cleared and onSignedOut is told', async () => {
    const s = server();
    let told = '';
    const tokens = memoryTokens({ accessToken: 'stale', refreshToken: 'refresh-0', expiresIn: 900 });
    const http = new HttpClient({ baseUrl: 'http://api.test', tokens, fetch: s.fetch as typeof fetch, onSignedOut: (e) => (told = e.code) });
    await expect(http.request('GET', '/users/me')).rejects.toMatchObject({ code: 'session_revoked' });
    expect(told).toBe('session_revoked');
    expect(tokens.get()).toBeNull();
  });
});

const msg = (seq: number, over: Partial<Message> = {}): Message => ({
  id: `m${seq}`, conversationId: 'c1', seq, senderId: 'bob', clientMsgId: `c${seq}`, type: 'text', content: `text ${seq}`, createdAt: new Date(1_700_000_000_000 + seq).toISOString(), ...over,
});

describe('web client state', () => {
  it('threads hold each seq once, ascending, whether it came by page, live or twice', () => {
    let t = withPage({ ...EMPTY_THREAD, loading: true }, [msg(4), msg(5)], 2, false);
    expect(t).toMatchObject({ loaded: true, hasMore: true, loading: false });
    t = withMessage(t, msg(6), 'alice');
    t = withMessage(t, msg(6), 'alice');
    t = withPage(t, [msg(2), msg(3)], 30, true);
    expect(t.messages.map((m) => m.seq)).toEqual([2, 3, 4, 5, 6]);
    expect(t.hasMore).toBe(false);
    expect(mergeMessages([msg(1)], [msg(1, { content: 'newer' })])[0]!.content).toBe('newer');
  });

  it('my message replaces its outgoing copy by clientMsgId', () => {
    const t = { ...EMPTY_THREAD, loaded: true, outgoing: [{ clientMsgId: 'c9', type: 'text' as const, content: 'hi', createdAt: '' }] };
    expect(withMessage(t, msg(9, { senderId: 'alice' }), 'alice').outgoing).toEqual([]);
    expect(withMessage(t, msg(9), 'alice').outgoing).toHaveLength(1);
  });

  it('events apply to their target; applying them again after a page load changes nothing more', () => {
    const base = { conversationId: 'c1', actorId: 'alice', createdAt: new Date().toISOString() };
    const events = [
      { ...base, seq: 7, kind: 'reaction.added' as const, targetSeq: 5, emoji: '👍' },
      { ...base, seq: 8, kind: 'message.edited' as const, targetSeq: 5, content: 'edited', editedAt: base.createdAt },
      { ...base, seq: 9, kind: 'message.recalled' as const, targetSeq: 4 },
    ];
    const t = withEvents(withPage(EMPTY_THREAD, [msg(4), msg(5)], 30, false), events);
    const again = withEvents(t, events);
    expect(again.messages).toEqual(t.messages);
    expect(t.messages[1]).toMatchObject({ content: 'edited', reactions: [{ emoji: '👍', count: 1, userIds: ['alice'] }] });
    expect(t.messages[0]).toMatchObject({ recalled: true, content: null });
    expect(withEvent(t, { ...base, seq: 10, kind: 'member.left', userId: 'x' })).toBe(t);
    expect(lastOwn(withMessage(t, msg(11, { senderId: 'alice' }), 'alice'), 'alice')?.seq).toBe(11);
  });

  it('the list counts unread and mentions only for others’ messages I am not looking at', () => {
    const conv = { id: 'c1', kind: 'group' as const, members: [], createdAt: '', lastSeq: 3, unreadCount: 0, mentionCount: 0 };
    const one = withNewMessage(conv, msg(4, { mentions: ['alice'] }), 'alice', false);
    expect(one).toMatchObject({ lastSeq: 4, unreadCount: 1, mentionCount: 1, lastMessage: { seq: 4 } });
    expect(withNewMessage(one, msg(5, { senderId: 'alice' }), 'alice', false)).toMatchObject({ unreadCount: 1, lastSeq: 5 });
    expect(withNewMessage(one, msg(6), 'alice', true)).toMatchObject({ unreadCount: 1 });
    // An older seq arriving late does not replace the last message.
    expect(withNewMessage(one, msg(2), 'alice', true).lastMessage?.seq).toBe(4);
  });
});
