/**
 * The per-user send limit: a token bucket (`ratePerSecond` sustained, bursts
 * up to `burst`). It lives in the user's own actor, which every send passes
 * through, so it costs no network round trip; an evicted UserDO starts with a
 * full bucket, which only ever errs on the generous side.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly rate: number;
  private readonly burst: number;

  constructor(ratePerSecond: number, burst: number, now = Date.now()) {
    this.rate = ratePerSecond;
    this.burst = burst;
    this.tokens = burst;
    this.last = now;
  }

  take(now = Date.now()): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
