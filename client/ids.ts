/** A random id for clientMsgIds and device ids: 128 bits as hex. `getRandomValues`, unlike `randomUUID`, works outside secure contexts too (a dev server reached by LAN address). */
export function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
