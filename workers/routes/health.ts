/**
 * /health (liveness) and /ready (can we reach Postgres, Redis and QStash?).
 * /ready is public, so it names what is down and nothing more: the error
 * text goes to the log. Its answer is cached per isolate for a few seconds,
 * so a load balancer probing it does not cost a QStash API call per hit.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { jsonResponse } from '../../protocol/common.ts';
import type { AppEnv } from '../context.ts';
import { errorText } from '../../lib/log.ts';
import { qstashClient } from '../../services/qstash.ts';
import { redisClient } from '../../services/redis.ts';

const Check = z.object({ ok: z.boolean(), ms: z.number().int() });
const Health = z.object({ ok: z.boolean() }).openapi('Health');
const Ready = z
  .object({ ok: z.boolean(), checks: z.object({ postgres: Check, redis: Check, qstash: Check }) })
  .openapi('Ready');
type Ready = z.infer<typeof Ready>;

const health = createRoute({
  method: 'get', path: '/health', operationId: 'health', tags: ['health'], summary: 'Liveness', security: [],
  responses: { 200: jsonResponse(Health, 'Alive') },
});
const ready = createRoute({
  method: 'get', path: '/ready', operationId: 'ready', tags: ['health'], summary: 'Dependencies reachable', security: [],
  responses: { 200: jsonResponse(Ready, 'All dependencies answer'), 503: jsonResponse(Ready, 'Something is down: see `checks`') },
});

const CHECK_TIMEOUT_MS = 3000;
/** How long one isolate reuses its last answer. */
export const READY_CACHE_MS = 5000;

let cached: { at: number; body: Ready } | undefined;

async function check(run: () => Promise<unknown>): Promise<{ ok: boolean; ms: number; error?: string }> {
  const started = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([run(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS)))]);
    return { ok: true, ms: Date.now() - started };
  } catch (err) {
    return { ok: false, ms: Date.now() - started, error: errorText(err) };
  } finally {
    clearTimeout(timer);
  }
}

export const healthRoutes = new OpenAPIHono<AppEnv>()
  .openapi(health, (c) => c.json({ ok: true }, 200))
  .openapi(ready, async (c) => {
    // Only the settled result is shared between requests, never a pending promise: workerd ties I/O to the request that started it.
    if (!cached || Date.now() - cached.at > READY_CACHE_MS) {
      const [postgres, redis, qstash] = await Promise.all([
        check(() => c.var.pg.db.execute(sql`select 1`)),
        check(() => redisClient(c.env).ping()),
        check(() => qstashClient(c.env).dlq.listMessages({ count: 1 })),
      ]);
      const all = { postgres, redis, qstash };
      const down = Object.entries(all).filter(([, r]) => !r.ok);
      if (down.length > 0) c.var.log.warn('ready.failed', { down: Object.fromEntries(down.map(([name, r]) => [name, r.error])) });
      const brief = (r: { ok: boolean; ms: number }) => ({ ok: r.ok, ms: r.ms });
      cached = { at: Date.now(), body: { ok: down.length === 0, checks: { postgres: brief(postgres), redis: brief(redis), qstash: brief(qstash) } } };
    }
    return c.json(cached.body, cached.body.ok ? 200 : 503);
  });
