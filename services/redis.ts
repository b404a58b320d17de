/** Upstash Redis over its REST protocol: presence, revocations, tickets, rate limits. */
import { Redis } from '@upstash/redis/cloudflare';

export function redisClient(env: Env): Redis {
  return new Redis({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN, enableTelemetry: false });
}
