/**
 * The client package (client/) against the running stack: its REST client,
 * and its device socket — ticket auth, sync, answers by clientMsgId and ref,
 * and reconnects that resume from the cursors with exactly the missed
 * entries (no gap, no duplicate).
 */
import { describe, expect, it } from 'vitest';
import { ApiError, BeehiveSocket, createApi, SocketError, type Api, type ServerFrame, type SocketState, type WebSocketLike } from '../../client/index.ts';
import { stack, uniqueName } from './client.ts';

async function person(): Promise<{ api: Api; id: string }> {
  const api = createApi({ baseUrl: stack.api });
  const r = await api.auth.register({ username: uniqueName('cl'), password: 'correct horse battery' });
  return { api, id: r.user.id };
}

/** Two friends and their single conversation. */
async function pair(): Promise<{ a: { api: Api; id: string }; b: { api: Api; id: string }; conversationId: string }> {
  const [a, b] = await Promise.all([person(), person()]);
  const { request } = await a.api.friends.request(b.id);
  await b.api.friends.accept(request.id);
  const conv = await a.api.conversations.create({ kind: 'single', peerId: b.id });
  return { a, b, conversationId: conv.id };
}

interface Opened {
  socket: BeehiveSocket;
  frames: ServerFrame[];
  /** Every WebSocket the client opened, newest last (to cut one as a network would). */
  opened: WebSocketLike[];
}

function open(api: Api, opts: { deviceId?: string; initialMs?: number } = {}): Opened {
  const frames: ServerFrame[] = [];
  const opened: WebSocketLike[] = [];
  const socket = new BeehiveSocket({
    url: `${stack.api.replace(/^http/, 'ws')}/api/v1/ws`,
    deviceId: opts.deviceId ?? uniqueName('dev'),
    ticket: async () => (await api.auth.wsTicket()).ticket,
    connect: (url) => {
      const ws = new WebSocket(url) as unknown as WebSocketLike;
      opened.push(ws);
      return ws;
    },
    backoff: { initialMs: opts.initialMs ?? 200 },
    random: () => 1, // no jitter: the delays are the ceilings
  });
  socket.onFrame((f) => frames.push(f));
  socket.start();
  return { socket, frames, opened };
}

function state(socket: BeehiveSocket, want: SocketState, ms = 10_000): Promise<void> {
  if (socket.state === want) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (off(), reject(new Error(`socket not ${want} within ${ms} ms (is ${socket.state})`))), ms);
    const off = socket.onState((s) => s === want && (clearTimeout(timer), off(), resolve()));
  });
}

const seqsOf = (frames: ServerFrame[], conversationId: string) =>
  frames.flatMap((f) => (f.type === 'message.new' && f.message.conversationId === conversationId ? [f.message.seq] : []));

async function waitFor(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('client package: REST', () => {
  it('signs in, keeps the tokens, and turns the error envelope into ApiError with its code', async () => {
    const a = await person();
    expect((await a.api.users.me()).id).toBe(a.id);
    const err = await a.api.conversations.get('00000000-0000-7000-8000-000000000000').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(404);
    expect((err as ApiError).code).toBe('not_found');
    const anonymous = createApi({ baseUrl: stack.api });
    const refused = await anonymous.auth.login({ login: uniqueName('nobody'), password: 'wrong password' }).catch((e: unknown) => e);
    expect((refused as ApiError).code).toBe('invalid_credentials');
  });

  it('rotates the token pair; a revoked session clears the tokens and says so', async () => {
    const a = await person();
    const before = a.api.auth.tokens!;
    await a.api.auth.refresh();
    const after = a.api.auth.tokens!;
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect((await a.api.users.me()).id).toBe(a.id);
    // Another client still holding the session's tokens when it is signed out elsewhere.
    let signedOut: ApiError | undefined;
    const other = createApi({ baseUrl: stack.api, onSignedOut: (e) => (signedOut = e) });
    other.http.tokens.set(after);
    await a.api.auth.logout();
    expect(a.api.auth.tokens).toBeNull();
    const refused = await other.users.me().catch((e: unknown) => e);
    expect((refused as ApiError).status).toBe(401);
    expect(signedOut?.code).toBe((refused as ApiError).code);
    expect(other.auth.tokens).toBeNull();
  });
});

describe('client package: the device socket', () => {
  it('connects with a ticket, syncs, sends with an ack, and the peer gets the message', async () => {
    const { a, b, conversationId } = await pair();
    const conv = { id: conversationId };
    const sa = open(a.api);
    const sb = open(b.api);
    await Promise.all([state(sa.socket, 'online'), state(sb.socket, 'online')]);
    const ack = await sa.socket.sendMessage({ conversationId: conv.id, msgType: 'text', content: 'over the client' });
    expect(ack.conversationId).toBe(conv.id);
    expect(ack.seq).toBeGreaterThan(0);
    await waitFor(() => seqsOf(sb.frames, conv.id).includes(ack.seq));
    expect(sb.socket.cursors[conv.id]).toBe(ack.seq);
    // An action is answered by its event, matched by ref.
    const event = await sb.socket.react(conv.id, ack.seq, '👍', true);
    expect(event).toMatchObject({ kind: 'reaction.added', targetSeq: ack.seq, emoji: '👍' });
    // A refusal rejects the send it answers, by clientMsgId.
    const refused = await sb.socket.sendMessage({ conversationId: conv.id, msgType: 'text', content: '   ' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SocketError);
    expect((refused as SocketError).code).toBe('validation_failed');
    sa.socket.stop();
    sb.socket.stop();
  });

  it('after a dropped connection, reconnects and replays exactly what it missed, in order', async () => {
    const { a, b, conversationId } = await pair();
    const conv = { id: conversationId };
    const first = await a.api.conversations.send(conv.id, { clientMsgId: 'before', type: 'text', content: 'before the drop' });
    const sb = open(b.api, { initialMs: 700 });
    await state(sb.socket, 'online');
    await waitFor(() => seqsOf(sb.frames, conv.id).includes(first.seq));

    // The network cuts the socket (not the client): it must notice, back off, and come back.
    sb.opened.at(-1)!.close();
    await state(sb.socket, 'offline');
    const missed = [];
    for (let i = 0; i < 3; i++) missed.push((await a.api.conversations.send(conv.id, { clientMsgId: `gap-${i}`, type: 'text', content: `while away ${i}` })).seq);
    await state(sb.socket, 'online');
    expect(sb.opened.length).toBe(2);
    const after = await a.api.conversations.send(conv.id, { clientMsgId: 'after', type: 'text', content: 'after the return' });
    await waitFor(() => seqsOf(sb.frames, conv.id).includes(after.seq));
    expect(seqsOf(sb.frames, conv.id)).toEqual([first.seq, ...missed, after.seq]);
    expect(sb.socket.cursors[conv.id]).toBe(after.seq);
    sb.socket.stop();
  });

  it('paused (the browser went offline), it holds a send and delivers it once after resume', async () => {
    const { a, b, conversationId } = await pair();
    const conv = { id: conversationId };
    const sa = open(a.api);
    const sb = open(b.api);
    await Promise.all([state(sa.socket, 'online'), state(sb.socket, 'online')]);
    sa.socket.pause();
    expect(sa.socket.state).toBe('offline');
    let acked = false;
    const sending = sa.socket.sendMessage({ conversationId: conv.id, clientMsgId: 'queued-1', msgType: 'text', content: 'queued while offline' }).then((ack) => ((acked = true), ack));
    await new Promise((r) => setTimeout(r, 400));
    expect(acked).toBe(false);
    expect(seqsOf(sb.frames, conv.id)).toEqual([]);
    sa.socket.resume();
    const ack = await sending;
    await waitFor(() => seqsOf(sb.frames, conv.id).includes(ack.seq));
    await new Promise((r) => setTimeout(r, 300));
    expect(seqsOf(sb.frames, conv.id)).toEqual([ack.seq]);
    sa.socket.stop();
    sb.socket.stop();
  });

  it('stops for good when the session is over (the ticket is refused with 401)', async () => {
    const a = await person();
    const api = a.api;
    const tokens = api.auth.tokens!;
    await api.auth.logout();
    api.http.tokens.set(tokens); // the revoked session's tokens: the server says no
    const s = open(api);
    await waitFor(() => s.socket.state === 'offline' && s.opened.length === 0, 5000);
    await new Promise((r) => setTimeout(r, 600));
    expect(s.opened.length).toBe(0);
    expect(s.socket.state).toBe('offline');
  });
});
