/** /health (liveness) and /ready (can we reach Postgres, Redis and QStash?). */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { jsonResponse } from '../../protocol/common.ts';
import type { AppEnv } from '../context.ts';
import { qstashClient } from '../../services/qstash.ts';
import { redisClient } from '../../services/redis.ts';

const Health = z.object({ ok: z.boolean() });
const Ready = z.object({ ok: z.boolean(), checks: z.record(z.string(), z.object({ ok: z.boolean(), ms: z.number(), error: z.string().optional() })) });

const health = createRoute({ method: 'get', path: '/health', tags: ['health'], summary: 'Liveness', responses: { 200: jsonResponse(Health, 'Alive') } });
const ready = createRoute({
  method: 'get', path: '/ready', tags: ['health'], summary: 'Dependencies reachable',
  responses: { 200: jsonResponse(Ready, 'All dependencies answer'), 503: jsonResponse(Ready, 'Something is down: see `checks`') },
});

const CHECK_TIMEOUT_MS = 3000;

async function check(run: () => Promise<unknown>): Promise<{ ok: boolean; ms: number; error?: string }> {
  const started = Date.now();
  try {
    await Promise.race([run(), new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS))]);
    return { ok: true, ms: Date.now() - started };
  } catch (err) {
    return { ok: false, ms: Date.now() - started, error: err instanceof Error ? err.message : String(err) };
  }
}

export const healthRoutes = new OpenAPIHono<AppEnv>()
  .openapi(health, (c) => c.json({ ok: true }, 200))
  .openapi(ready, async (c) => {
    const [postgres, redis, qstash] = await Promise.all([
      check(() => c.var.pg.db.execute(sql`select 1`)),
      check(() => redisClient(c.env).ping()),
      check(() => qstashClient(c.env).dlq.listMessages({ count: 1 })),
    ]);
    const checks = { postgres, redis, qstash };
    const ok = postgres.ok && redis.ok && qstash.ok;
    if (!ok) c.var.log('ready.failed', { checks });
    return c.json({ ok, checks }, ok ? 200 : 503);
  });
