/**
 * Two users chatting in real time through a running `npm start`, with a plain
 * WebSocket client:
 *
 *   npx node examples/chat.ts                                  # the stack on 8787
 *   BEEHIVE_PORT_BASE=9787 npx node examples/chat.ts           # a stack started with the same base
 *   BEEHIVE_URL=https://beehive-staging.example.workers.dev npx node examples/chat.ts
 */
import WebSocket from 'ws';

const API = (process.env.BEEHIVE_URL ?? `http://127.0.0.1:${process.env.BEEHIVE_PORT_BASE ?? 8787}`).replace(/\/+$/, '');

async function post(path: string, body: unknown, token?: string) {
  const res = await fetch(`${API}/api/v1${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<any>;
}

const suffix = Date.now().toString(36);
const alice = await post('/auth/register', { username: `alice_${suffix}`, password: 'correct horse battery' });
const bob = await post('/auth/register', { username: `bob_${suffix}`, password: 'correct horse battery' });
// Friends first: groups are made of friends.
const { request } = await post('/friends/requests', { toUserId: bob.user.id, message: 'Hi, it is Alice' }, alice.accessToken);
await post(`/friends/requests/${request.id}/accept`, {}, bob.accessToken);
const { id: conversationId } = await post('/conversations', { kind: 'group', name: 'hello', memberIds: [bob.user.id] }, alice.accessToken);

function connect(token: string, name: string): Promise<WebSocket> {
  const ws = new WebSocket(`${API.replace(/^http/, 'ws')}/api/v1/ws?deviceId=${name}-laptop`, { headers: { authorization: `Bearer ${token}` } });
  ws.on('message', (data) => console.log(`${name} ⇐`, data.toString()));
  return new Promise((resolve) => ws.once('open', () => resolve(ws)));
}

const [a, b] = await Promise.all([connect(alice.accessToken, 'alice'), connect(bob.accessToken, 'bob')]);
a.send(JSON.stringify({ type: 'message.send', conversationId, clientMsgId: 'hello-1', msgType: 'text', content: 'Hi Bob!' }));
await new Promise((r) => setTimeout(r, 300));
b.send(JSON.stringify({ type: 'message.read', conversationId, seq: 1 }));
b.send(JSON.stringify({ type: 'message.send', conversationId, clientMsgId: 'hello-2', msgType: 'text', content: 'Hi Alice 👋' }));
await new Promise((r) => setTimeout(r, 500));
a.close();
b.close();
