/**
 * The WebSocket protocol as an AsyncAPI 3.0 document, generated from the
 * frame schemas in frames.ts — the same zod schemas the sockets validate
 * with, so the document cannot drift from what the server accepts. Served
 * at `/asyncapi.json`; docs/protocol.md is the prose beside it.
 */
import { z } from '@hono/zod-openapi';
import { ClientFrames, ServerFrames } from './frames.ts';

type Frames = Record<string, z.ZodType>;

function payload(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _s, ...json } = z.toJSONSchema(schema, { target: 'draft-7', io, unrepresentable: 'any' }) as Record<string, unknown>;
  return json;
}

const messageName = (type: string) => type.replace(/\./g, '_');

function messages(frames: Frames, io: 'input' | 'output', direction: 'client' | 'server'): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(frames).map(([type, schema]) => [
      `${direction}_${messageName(type)}`,
      {
        name: type,
        title: type,
        summary: schema.description ?? type,
        contentType: 'application/json',
        payload: payload(schema, io),
      },
    ]),
  );
}

const refs = (names: string[], prefix: string) => names.map((n) => ({ $ref: `${prefix}/${n}` }));

/** The document, for a server at `publicUrl` (the Worker's PUBLIC_URL). */
export function asyncApiDocument(publicUrl: string): Record<string, unknown> {
  const url = new URL(publicUrl);
  const client = messages(ClientFrames as unknown as Frames, 'input', 'client');
  const server = messages(ServerFrames as unknown as Frames, 'output', 'server');
  const all = { ...client, ...server };
  const channelMessages = Object.fromEntries(Object.keys(all).map((n) => [n, { $ref: `#/components/messages/${n}` }]));
  const channel = (address: string, title: string, description: string, extra: Record<string, unknown> = {}) => ({
    address, title, description, messages: channelMessages, ...extra,
  });
  const operations = (channelName: string, label: string) => ({
    [`${channelName}Receive`]: {
      action: 'receive',
      title: `Frames a client sends on the ${label}`,
      channel: { $ref: `#/channels/${channelName}` },
      messages: refs(Object.keys(client), `#/channels/${channelName}/messages`),
    },
    [`${channelName}Send`]: {
      action: 'send',
      title: `Frames the server sends on the ${label}`,
      channel: { $ref: `#/channels/${channelName}` },
      messages: refs(Object.keys(server), `#/channels/${channelName}/messages`),
    },
  });
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Beehive WebSocket protocol',
      version: '1',
      description:
        'One JSON object per frame, each with a `type`. A device socket gets nothing until it sends `sync`; the replay ' +
        '(messages and events in seq order) ends with `sync.done`, then live frames follow. See docs/protocol.md.',
    },
    defaultContentType: 'application/json',
    servers: {
      beehive: {
        host: url.host,
        protocol: url.protocol === 'https:' ? 'wss' : 'ws',
        pathname: '/api/v1',
        description: 'Authenticate with `Authorization: Bearer <accessToken>` or `?ticket=` (POST /api/v1/auth/ws-ticket).',
      },
    },
    channels: {
      device: channel('/ws', 'Device socket', 'All of a user’s conversations, held by their UserDO. Query: `deviceId`, `ticket`.', {
        bindings: { ws: { query: { type: 'object', properties: { deviceId: { type: 'string', maxLength: 64 }, ticket: { type: 'string' } } } } },
      }),
      liveView: channel('/conversations/{conversationId}/ws', 'Live-view socket', 'One conversation, held by its ConversationDO (members only); live at once.', {
        parameters: { conversationId: { description: 'The conversation’s id' } },
      }),
    },
    operations: { ...operations('device', 'device socket'), ...operations('liveView', 'live-view socket') },
    components: { messages: all },
  };
}
