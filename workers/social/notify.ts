/**
 * Pushes a social frame to a user's devices through their UserDO, after the
 * response. The change it announces is already committed: a failed push is
 * logged and dropped, never turned into a failed request (clients also see
 * the change the next time they list requests or friends).
 */
import type { Context } from 'hono';
import type { ServerFrameOf } from '../../protocol/frames.ts';
import type { AppEnv } from '../context.ts';
import { errorText } from '../../lib/log.ts';

export function notifyUser(c: Context<AppEnv>, userId: string, frame: ServerFrameOf<'friend.request' | 'friend.accepted'>): void {
  const log = c.var.log;
  const push = async () => {
    await c.env.USERS.getByName(userId).notify(frame);
  };
  c.executionCtx.waitUntil(push().catch((err: unknown) => log.warn('notify.failed', { userId, type: frame.type, error: errorText(err) })));
}
