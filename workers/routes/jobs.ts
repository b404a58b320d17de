/**
 * /internal/jobs/* — QStash deliveries back into the Worker. The signature
 * covers the raw body and this exact URL, so it is verified before anything
 * is parsed. QStash delivers at least once, in parallel and unordered: every
 * handler is idempotent (UserDO.deliver ignores a seq it already has).
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { Message } from '../../protocol/messages.ts';
import type { AppEnv } from '../context.ts';
import { ApiError } from '../errors.ts';
import { qstashReceiver } from '../../services/qstash.ts';

const DeliverJob = z.object({ message: Message, userIds: z.array(z.string()).min(1).max(1000), originDevice: z.string().optional() });

async function verified(c: import('hono').Context<AppEnv>): Promise<unknown> {
  const signature = c.req.header('upstash-signature');
  const body = await c.req.text();
  const url = `${c.env.PUBLIC_URL}${c.req.path}`;
  const ok = signature ? await qstashReceiver(c.env).verify({ signature, body, url }).catch(() => false) : false;
  if (!ok) throw new ApiError('unauthenticated', 'Bad or missing QStash signature');
  return JSON.parse(body);
}

export const jobRoutes = new Hono<AppEnv>().post('/deliver', async (c) => {
  const job = DeliverJob.safeParse(await verified(c));
  if (!job.success) throw new ApiError('validation_failed', 'Malformed deliver job');
  const { message, userIds, originDevice } = job.data;
  const results = await Promise.allSettled(
    userIds.map((id) => c.env.USERS.getByName(id).deliver(message, id === message.senderId ? originDevice : undefined)),
  );
  const failed = results.filter((r) => r.status === 'rejected').length;
  c.var.log('jobs.deliver', { conversationId: message.conversationId, seq: message.seq, recipients: userIds.length, failed });
  // A non-2xx makes QStash retry the whole batch; deliveries already made are no-ops the second time.
  return failed ? c.json({ failed }, 500) : c.json({ delivered: userIds.length }, 200);
});
