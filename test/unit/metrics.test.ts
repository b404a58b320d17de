/**
 * Metrics inside workerd. The vitest integration gives the Worker the
 * `METRICS` Analytics Engine binding from wrangler.toml, but locally a
 * dataset only accepts writes and keeps nothing to query; so the app is also
 * run with a recording dataset in its place, to see exactly what it writes.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { metric } from '../../lib/metrics.ts';
import app from '../../workers/app.ts';

function recorder() {
  const points: AnalyticsEngineDataPoint[] = [];
  return { points, dataset: { writeDataPoint: (p?: AnalyticsEngineDataPoint) => void points.push(p ?? {}) } as AnalyticsEngineDataset };
}
const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;

describe('metrics', () => {
  it('the Worker writes one http datapoint per request: kind, method, matched route, status, duration', async () => {
    const { points, dataset } = recorder();
    const menv = { ...env, METRICS: dataset };
    expect((await app.fetch(new Request('http://beehive.test/health'), menv, ctx)).status).toBe(200);
    expect((await app.fetch(new Request('http://beehive.test/api/v1/users/me'), menv, ctx)).status).toBe(401);
    expect((await app.fetch(new Request('http://beehive.test/nope/123'), menv, ctx)).status).toBe(404);
    expect(points.map((p) => ({ indexes: p.indexes, blobs: p.blobs, status: p.doubles?.[0] }))).toEqual([
      { indexes: ['http'], blobs: ['http', 'GET', '/health'], status: 200 },
      { indexes: ['http'], blobs: ['http', 'GET', '/api/v1/users/me'], status: 401 },
      { indexes: ['http'], blobs: ['http', 'GET', 'unmatched'], status: 404 },
    ]);
    for (const p of points) expect(p.doubles![1]).toBeGreaterThanOrEqual(0);
  });

  it('names the route pattern, never the raw path (bounded cardinality)', async () => {
    const { points, dataset } = recorder();
    await app.fetch(new Request('http://beehive.test/api/v1/users/0193a5b2-7c1e-7d3a-9f00-1b2c3d4e5f60'), { ...env, METRICS: dataset }, ctx);
    expect(points[0]!.blobs).toEqual(['http', 'GET', '/api/v1/users/:id']);
  });

  it('lays out every kind in its documented order, and never throws', () => {
    const { points, dataset } = recorder();
    metric({ METRICS: dataset }, 'fanout', { mode: 'qstash', members: 250 });
    metric({ METRICS: dataset }, 'delivery', { path: 'rpc', devices: 2, ms: 7 });
    expect(points).toEqual([
      { indexes: ['fanout'], blobs: ['fanout', 'qstash'], doubles: [250] },
      { indexes: ['delivery'], blobs: ['delivery', 'rpc'], doubles: [2, 7] },
    ]);
    const broken = { writeDataPoint: () => { throw new Error('full'); } } as unknown as AnalyticsEngineDataset;
    expect(() => metric({ METRICS: broken }, 'message', { type: 'text', ms: 3 })).not.toThrow();
    expect(() => metric({}, 'message', { type: 'text', ms: 3 })).not.toThrow();
  });

  it('the configured binding accepts datapoints', () => {
    expect(typeof env.METRICS.writeDataPoint).toBe('function');
    expect(() => metric(env, 'socket', { socket: 'device', event: 'open', held: 1 })).not.toThrow();
  });
});
