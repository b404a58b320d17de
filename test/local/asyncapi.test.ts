/**
 * /asyncapi.json: the AsyncAPI 3.0 document of the WebSocket protocol,
 * generated from the frame schemas. The official parser must accept it with
 * no errors, and it must list every frame either side sends.
 */
import { Parser } from '@asyncapi/parser';
import { describe, expect, it } from 'vitest';
import { asyncApiDocument } from '../../protocol/asyncapi.ts';
import { ClientFrames, ServerFrames } from '../../protocol/frames.ts';

const doc = asyncApiDocument('https://api.beehive.example');

describe('the AsyncAPI document', () => {
  it('is valid AsyncAPI 3.0 by the official parser', async () => {
    const { document, diagnostics } = await new Parser().parse(JSON.stringify(doc));
    const errors = diagnostics.filter((d) => d.severity === 0);
    expect(errors.map((d) => `${d.path.join('.')}: ${d.message}`)).toEqual([]);
    expect(document?.version()).toBe('3.0.0');
  });

  it('lists every client frame as received and every server frame as sent, on both sockets', async () => {
    const { document } = await new Parser().parse(JSON.stringify(doc));
    const names = (op: string) => document!.operations().get(op)!.messages().all().map((m) => m.name());
    for (const socket of ['device', 'liveView']) {
      expect(names(`${socket}Receive`).sort()).toEqual(Object.keys(ClientFrames).sort());
      expect(names(`${socket}Send`).sort()).toEqual(Object.keys(ServerFrames).sort());
    }
  });

  it('carries the schemas the sockets validate with (a frame’s required fields)', () => {
    const send = (doc.components as any).messages.client_message_send.payload;
    expect(send.required).toEqual(expect.arrayContaining(['type', 'conversationId', 'clientMsgId']));
    const event = (doc.components as any).messages['server_conversation_event'].payload;
    expect(event.properties.event.oneOf.length).toBeGreaterThanOrEqual(10);
  });
});
