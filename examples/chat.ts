/**
 * Two users chatting in real time through a running `npm start`, with the
 * typed client package (client/): REST for accounts, friends and the group,
 * a device socket each for the messages.
 *
 *   npx node examples/chat.ts                                  # the stack on 8787
 *   BEEHIVE_PORT_BASE=9787 npx node examples/chat.ts           # a stack started with the same base
 *   BEEHIVE_URL=https://beehive-staging.example.workers.dev npx node examples/chat.ts
 */
import { BeehiveSocket, createApi, type Api } from '../client/index.ts';

const API = (process.env.BEEHIVE_URL ?? `http://127.0.0.1:${process.env.BEEHIVE_PORT_BASE ?? 8787}`).replace(/\/+$/, '');

const suffix = Date.now().toString(36);
const aliceApi = createApi({ baseUrl: API });
const bobApi = createApi({ baseUrl: API });
const alice = await aliceApi.auth.register({ username: `alice_${suffix}`, password: 'correct horse battery' });
const bob = await bobApi.auth.register({ username: `bob_${suffix}`, password: 'correct horse battery' });
// Friends first: groups are made of friends.
const { request } = await aliceApi.friends.request(bob.user.id, 'Hi, it is Alice');
await bobApi.friends.accept(request.id);
const { id: conversationId } = await aliceApi.conversations.create({ kind: 'group', name: 'hello', memberIds: [bob.user.id] });

/** A device socket (Node 22's WebSocket), authenticated by a one-time ticket as a browser's would be; logs every frame. */
function connect(api: Api, name: string): Promise<BeehiveSocket> {
  const socket = new BeehiveSocket({
    url: `${API.replace(/^http/, 'ws')}/api/v1/ws`,
    deviceId: `${name}-laptop`,
    ticket: async () => (await api.auth.wsTicket()).ticket,
  });
  socket.onFrame((frame) => console.log(`${name} ⇐`, JSON.stringify(frame)));
  socket.start();
  return new Promise((resolve) => socket.onState((s) => s === 'online' && resolve(socket)));
}

const [a, b] = await Promise.all([connect(aliceApi, 'alice'), connect(bobApi, 'bob')]);
const ack = await a.sendMessage({ conversationId, clientMsgId: 'hello-1', msgType: 'text', content: 'Hi Bob!' });
b.read(conversationId, ack.seq);
await b.sendMessage({ conversationId, clientMsgId: 'hello-2', msgType: 'text', content: 'Hi Alice 👋' });
await new Promise((r) => setTimeout(r, 500));
a.stop();
b.stop();
