/**
 * /internal/jobs/* — QStash deliveries back into the Worker. The signature
 * covers the raw body and this exact URL, so it is verified before anything
 * is parsed. QStash delivers at least once, in parallel and unordered: every
 * handler is idempotent (UserDO.deliver ignores a seq it already has).
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { StreamItem } from '../../protocol/events.ts';
import type { AppEnv } from '../context.ts';
import { ApiError } from '../errors.ts';
import { qstashReceiver } from '../../services/qstash.ts';
import { runPushJob } from '../jobs/push.ts';
import { runSearchJob } from '../jobs/search.ts';

const Delivery = z.object({
  item: StreamItem,
  origin: z.string().optional(),
  target: z.object({ senderId: z.string(), mentions: z.array(z.string()).optional(), mentionAll: z.boolean().optional() }).optional(),
});
/** A batch of a large group's fan-out: the entries, the members it is for, and the part of it that is theirs when it is not all of it. */
const DeliverJob = z.object({
  conversationId: z.string(),
  deliveries: z.array(Delivery).min(1).max(1000),
  userIds: z.array(z.string()).min(1).max(1000),
  windows: z.record(z.string(), z.tuple([z.number().int(), z.number().int()])).default({}),
});

async function verified(c: import('hono').Context<AppEnv>): Promise<unknown> {
  const signature = c.req.header('upstash-signature');
  const body = await c.req.text();
  const url = `${c.env.PUBLIC_URL}${c.req.path}`;
  const ok = signature ? await qstashReceiver(c.env).verify({ signature, body, url }).catch(() => false) : false;
  if (!ok) throw new ApiError('unauthenticated', 'Bad or missing QStash signature');
  return JSON.parse(body);
}

const SearchJob = z.object({ conversationId: z.string(), seqs: z.array(z.number().int().min(1)).min(1).max(500) });
const PushJob = z.object({ userId: z.string(), conversationId: z.string(), seq: z.number().int().min(1), deviceIds: z.array(z.string()).min(1).max(100) });

export const jobRoutes = new Hono<AppEnv>().post('/deliver', async (c) => {
  const job = DeliverJob.safeParse(await verified(c));
  if (!job.success) throw new ApiError('validation_failed', 'Malformed deliver job');
  const { conversationId, deliveries, userIds, windows } = job.data;
  const seq = (d: (typeof deliveries)[number]) => ('message' in d.item ? d.item.message.seq : d.item.event.seq);
  const results = await Promise.allSettled(
    userIds.map((id) => {
      const w = windows[id];
      return c.env.USERS.getByName(id).deliver(conversationId, w ? deliveries.filter((d) => seq(d) >= w[0] && seq(d) <= w[1]) : deliveries);
    }),
  );
  const failed = results.filter((r) => r.status === 'rejected').length;
  c.var.log('jobs.deliver', { conversationId, seq: seq(deliveries.at(-1)!), recipients: userIds.length, failed });
  // A non-2xx makes QStash retry the whole batch; deliveries already made are no-ops the second time.
  return failed ? c.json({ failed }, 500) : c.json({ delivered: userIds.length }, 200);
});
jobRoutes.post('/push', async (c) => {
  const job = PushJob.safeParse(await verified(c));
  if (!job.success) throw new ApiError('validation_failed', 'Malformed push job');
  const result = await runPushJob(c.env, c.var.pg.db, c.var.log, job.data);
  c.var.log('jobs.push', { userId: job.data.userId, conversationId: job.data.conversationId, seq: job.data.seq, ...result });
  // A non-2xx makes QStash retry; a repeat only replaces the earlier push (Topic).
  return result.failed ? c.json(result, 500) : c.json(result, 200);
});

jobRoutes.post('/search', async (c) => {
  const job = SearchJob.safeParse(await verified(c));
  if (!job.success) throw new ApiError('validation_failed', 'Malformed search job');
  const result = await runSearchJob(c.env, job.data);
  c.var.log('jobs.search', { conversationId: job.data.conversationId, messages: job.data.seqs.length, ...result });
  return c.json(result, 200);
});
