/**
 * Beehive's typed client, for browsers and Node alike (DOM-only types: no
 * Node or Workers types needed): the REST API (`createApi`), the device
 * socket (`BeehiveSocket`), tus uploads (`uploadFile`) and the pure stream
 * helpers that keep a message list current (`applyEvent`).
 *
 *   const api = createApi({ baseUrl: 'https://api.beehive.chat' });
 *   await api.auth.login({ login: 'alice', password: '…' });
 *   const socket = new BeehiveSocket({
 *     url: 'wss://api.beehive.chat/api/v1/ws', deviceId: 'laptop',
 *     ticket: async () => (await api.auth.wsTicket()).ticket,
 *   });
 *   socket.on('message.new', ({ message }) => console.log(message.content));
 *   socket.start();
 *   await socket.sendMessage({ conversationId, msgType: 'text', content: 'hi' });
 */
export { createApi, type Api, type SendInput } from './api.ts';
export { randomId } from './ids.ts';
export { backoffDelay, type BackoffOptions } from './backoff.ts';
export { ApiError, HttpClient, memoryTokens, type HttpOptions, type RequestOptions, type TokenStore } from './http.ts';
export { BeehiveSocket, SocketError, type OutgoingMessage, type SocketOptions, type SocketState, type WebSocketFactory, type WebSocketLike } from './socket.ts';
export { uploadFile, type UploadOptions } from './upload.ts';
export { applyEvent, isMessageEvent, seqOf, withReaction } from '../protocol/message-state.ts';
export type * from './types.ts';
