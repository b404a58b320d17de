/**
 * Rate limits with @upstash/ratelimit (sliding window) on Upstash Redis.
 * Limits are `[requests, windowSeconds]`; the RATE_LIMITS var (JSON) may
 * override any of them per deployment.
 */
import { Ratelimit } from '@upstash/ratelimit';
import { ApiError } from '../errors.ts';
import { errorText, type Logger } from '../../lib/log.ts';
import { redisClient } from '../../services/redis.ts';

const DEFAULTS = {
  login_ip: [30, 60],
  login_account: [10, 300],
  send_code_ip: [20, 3600],
  send_code_email: [5, 3600],
  register_ip: [20, 3600],
  reset_ip: [20, 3600],
  /** Uploads started per user (POST /files, tus creation, instant challenges). */
  upload_user: [120, 60],
  /** Posts through one incoming webhook (its URL is the key): about one a second, as chat services allow. */
  incoming_hook: [30, 60],
} satisfies Record<string, [number, number]>;

export type LimitName = keyof typeof DEFAULTS;

function limitOf(env: Env, name: LimitName): [number, number] {
  const overrides = env.RATE_LIMITS ? (JSON.parse(env.RATE_LIMITS) as Partial<Record<LimitName, [number, number]>>) : {};
  return overrides[name] ?? DEFAULTS[name];
}

/** Throws 429 `rate_limited` with `Retry-After` once `key` used up its window; lets through if Redis is unreachable. */
export async function enforceLimit(env: Env, log: Logger, name: LimitName, key: string): Promise<void> {
  const [tokens, seconds] = limitOf(env, name);
  const limiter = new Ratelimit({
    redis: redisClient(env),
    limiter: Ratelimit.slidingWindow(tokens, `${seconds} s`),
    prefix: `ratelimit:${name}`,
    analytics: false,
  });
  let result;
  try {
    result = await limiter.limit(key.toLowerCase());
  } catch (err) {
    log.warn('ratelimit.unavailable', { limit: name, error: errorText(err) });
    return;
  }
  if (!result.success) {
    const retryAfter = Math.max(1, Math.ceil((result.reset - Date.now()) / 1000));
    throw new ApiError('rate_limited', 'Too many requests, try again later', { headers: { 'Retry-After': String(retryAfter) } });
  }
}

/**
 * The client address per-IP limits key on: `CF-Connecting-IP`, which
 * Cloudflare sets on every request from the internet (and wrangler dev on
 * every local one). A request without it (another Worker through a service
 * binding) has no address worth trusting: X-Forwarded-For and the like say
 * whatever the caller wants.
 */
export function clientIp(req: Request): string | undefined {
  return req.headers.get('cf-connecting-ip')?.trim() || undefined;
}

/**
 * A per-IP limit. Without a client address the limit is skipped rather than
 * keyed on a shared placeholder: one bucket for every such caller would let
 * one of them lock out all the others. The per-account and per-email limits
 * and the codes' five tries still hold for those requests.
 */
export async function enforceIpLimit(env: Env, log: Logger, name: LimitName, req: Request): Promise<void> {
  const ip = clientIp(req);
  if (!ip) {
    log.warn('ratelimit.no_client_ip', { limit: name });
    return;
  }
  await enforceLimit(env, log, name, ip);
}
