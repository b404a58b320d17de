/**
 * How long and how often a webhook delivery is retried, as pure functions of
 * the deployment's settings: exponential backoff from WEBHOOK_RETRY_BASE_MS,
 * capped at WEBHOOK_RETRY_CAP_MS, for WEBHOOK_GIVE_UP_MS (a day); then the
 * delivery is dead (`failed`) and the next one goes. A hook that keeps
 * failing past the dead letter — still failing a day after its failures
 * began, on a later delivery — is disabled. A single poison delivery (one
 * payload the receiver refuses while it accepts the next) is dead-lettered
 * without disabling anything.
 */

export interface HookTiming {
  retryBaseMs: number;
  retryCapMs: number;
  giveUpMs: number;
  timeoutMs: number;
}

/** Secrets replaced by a rotation keep signing for this long (Standard Webhooks receivers accept either). */
export const SECRET_OVERLAP_MS = 24 * 60 * 60 * 1000;

const num = (v: string | undefined, fallback: number) => (v && Number.isFinite(Number(v)) && Number(v) > 0 ? Number(v) : fallback);

export function hookTimingOf(env: Partial<Record<'WEBHOOK_RETRY_BASE_MS' | 'WEBHOOK_RETRY_CAP_MS' | 'WEBHOOK_GIVE_UP_MS' | 'WEBHOOK_TIMEOUT_MS', string>>): HookTiming {
  return {
    retryBaseMs: num(env.WEBHOOK_RETRY_BASE_MS, 1_000),
    retryCapMs: num(env.WEBHOOK_RETRY_CAP_MS, 3_600_000),
    giveUpMs: num(env.WEBHOOK_GIVE_UP_MS, 86_400_000),
    timeoutMs: num(env.WEBHOOK_TIMEOUT_MS, 10_000),
  };
}

/** The wait before retry number `attempt` (1 = the first retry). */
export function retryDelay(t: HookTiming, attempt: number): number {
  return Math.min(t.retryCapMs, t.retryBaseMs * 2 ** Math.max(0, attempt - 1));
}

export type AfterFailure = 'retry' | 'dead' | 'disable';

/**
 * After a failed attempt: `dead` once this delivery has been tried for the give-up time; `disable` when
 * another delivery fails while the hook's failures began at least that long ago; otherwise `retry`.
 */
export function afterFailure(t: HookTiming, s: { firstAt: number; failingSince: number | null; now: number }): AfterFailure {
  if (s.now - s.firstAt >= t.giveUpMs) return 'dead';
  if (s.failingSince !== null && s.now - s.failingSince >= t.giveUpMs) return 'disable';
  return 'retry';
}
