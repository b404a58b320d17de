/** The conversation routes as the e2e tests call them: sends, the stream's actions, reads. */
import { expect } from 'vitest';
import { type Account, api } from './client.ts';

export const C = '/api/v1/conversations';

let n = 0;
const clientMsgId = () => `t${++n}-${Date.now()}-${process.pid}`;

/** `POST …/messages` with a fresh clientMsgId unless `body` has one. */
export const send = (who: Account, conv: string, body: Record<string, unknown>) =>
  api('POST', `${C}/${conv}/messages`, { token: who.accessToken, body: { clientMsgId: clientMsgId(), ...body } });

/** A text message (or whatever `extra` makes it), sent over REST: 201 and the message. */
export async function say(who: Account, conv: string, content: unknown = 'hello', extra: Record<string, unknown> = {}): Promise<any> {
  const res = await send(who, conv, { type: 'text', content, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

export const edit = (who: Account, conv: string, seq: number, content: string) => api('PATCH', `${C}/${conv}/messages/${seq}`, { token: who.accessToken, body: { content } });
export const recall = (who: Account, conv: string, seq: number) => api('POST', `${C}/${conv}/messages/${seq}/recall`, { token: who.accessToken });
export const react = (who: Account, conv: string, seq: number, emoji: string, on = true) =>
  api(on ? 'PUT' : 'DELETE', `${C}/${conv}/messages/${seq}/reactions/${encodeURIComponent(emoji)}`, { token: who.accessToken });
export const forward = (who: Account, into: string, from: string, seq: number) => send(who, into, { forwardOf: { conversationId: from, seq } });
export const patch = (who: Account, conv: string, body: unknown) => api('PATCH', `${C}/${conv}`, { token: who.accessToken, body });
export const read = (who: Account, conv: string, seq: number) => api('POST', `${C}/${conv}/read`, { token: who.accessToken, body: { seq } });

/** `GET …/events` after `afterSeq` (one page of 100): `{items, lastSeq}`. */
export const stream = async (who: Account, conv: string, afterSeq = 0) => (await api('GET', `${C}/${conv}/events?afterSeq=${afterSeq}&limit=100`, { token: who.accessToken })).body;
/** The first 100 messages, in their current state. */
export const history = async (who: Account, conv: string) => (await api('GET', `${C}/${conv}/messages?afterSeq=0&limit=100`, { token: who.accessToken })).body.items as any[];
/** `conv` as it appears in `who`'s conversation list. */
export const listItem = async (who: Account, conv: string) =>
  ((await api('GET', `${C}?limit=100`, { token: who.accessToken })).body.items as any[]).find((c) => c.id === conv);

/** What an entry of the stream is, in a line: `seq:message` or `seq:<event kind>`. */
export const shape = (item: any): string => ('message' in item ? `${item.message.seq}:message` : `${item.event.seq}:${item.event.kind}`);
