/** Per-IP rate-limit keys inside workerd: they never collapse into one shared bucket. */
import { describe, expect, it } from 'vitest';
import { clientIp } from '../../workers/lib/ratelimit.ts';

describe('client address for per-IP limits', () => {
  it('is CF-Connecting-IP, and nothing a caller can claim otherwise', () => {
    expect(clientIp(new Request('http://beehive.test/', { headers: { 'cf-connecting-ip': '203.0.113.7' } }))).toBe('203.0.113.7');
    const spoofed = new Request('http://beehive.test/', { headers: { 'x-forwarded-for': '198.51.100.1', 'x-real-ip': '198.51.100.2' } });
    expect(clientIp(spoofed)).toBeUndefined();
  });

  it('is missing (so the per-IP limit is skipped) rather than a shared placeholder when the header is absent or blank', () => {
    expect(clientIp(new Request('http://beehive.test/'))).toBeUndefined();
    expect(clientIp(new Request('http://beehive.test/', { headers: { 'cf-connecting-ip': ' ' } }))).toBeUndefined();
  });
});
