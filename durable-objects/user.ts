/**
 * UserDO — one per user (addressed by user id): the user's device sockets
 * and inbox. Device sockets use the hibernation API and are tagged with
 * their session id, so revoking a session closes exactly its sockets.
 * Message delivery, sync and presence arrive with the messaging core.
 */
import { DurableObject } from 'cloudflare:workers';

export class UserDO extends DurableObject<Env> {
  /** Liveness probe for tests and /ready-style checks. */
  async ping(): Promise<{ ok: true; kind: 'user' }> {
    return { ok: true, kind: 'user' };
  }

  /** Closes every socket opened under `sessionId` (logout, password change, refresh-token reuse). Idempotent. */
  async closeSession(sessionId: string): Promise<number> {
    const sockets = this.ctx.getWebSockets(`sid:${sessionId}`);
    for (const ws of sockets) ws.close(4001, 'session revoked');
    return sockets.length;
  }
}
