/** Reconnect delays: exponential backoff with full jitter (AWS's "Exponential Backoff And Jitter"). */
export interface BackoffOptions {
  /** The ceiling of the first delay (default 500 ms). */
  initialMs?: number;
  /** The largest ceiling (default 30 s). */
  maxMs?: number;
  /** Growth per failed attempt (default 2). */
  factor?: number;
}

/**
 * The delay before reconnect attempt `attempt` (0 = the first after a drop):
 * uniform in [0, min(max, initial·factorᵃᵗᵗᵉᵐᵖᵗ)], so clients dropped together
 * by a deploy do not come back together. `random` is injectable for tests.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}, random: () => number = Math.random): number {
  const { initialMs = 500, maxMs = 30_000, factor = 2 } = opts;
  const ceiling = Math.min(maxMs, initialMs * factor ** Math.max(0, attempt));
  return Math.round(random() * ceiling);
}
