/**
 * Metrics inside workerd. The vitest integration gives the Worker the
 * `METRICS` Analytics Engine binding from wrangler.toml, but locally a
 * dataset only accepts writes and keeps nothing to query; so the app is also
 * run with a recording dataset in its place, to see exactly what it writes.
 */
import { env, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { metric } from '../../lib/metrics.ts';
import type { ConversationDO } from '../../durable-objects/conversation/index.ts';
import type { UserDO } from '../../durable-objects/user/index.ts';
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

describe('metrics from the Durable Objects', () => {
  it('a send writes a message datapoint, its fan-out a fanout one, the recipient a delivery one', async () => {
    const { points, dataset } = recorder();
    const id = 'c-metrics';
    const conv = env.CONVERSATIONS.getByName(id);
    await conv.setMirror({ conversationId: id, kind: 'group', version: 1, members: [{ userId: 'm-alice', role: 'owner' }, { userId: 'm-bob', role: 'member' }], settings: { name: 'g' } });
    // The objects' env carries the configured dataset, which keeps nothing: give them a recording one.
    await runInDurableObject(conv, (instance: ConversationDO) => void ((instance.d as { env: Env }).env = { ...instance.d.env, METRICS: dataset }));
    await runInDurableObject(env.USERS.getByName('m-bob'), (instance: UserDO) => void ((instance as unknown as { line: { host: { env: Env } } }).line.host.env = { ...env, METRICS: dataset }));
    const [sent] = await conv.send('m-alice', [{ clientMsgId: 'metric-1', type: 'text', content: 'counted' }]);
    expect(sent).toMatchObject({ ok: true });
    for (let i = 0; i < 50 && !points.some((p) => p.indexes?.[0] === 'delivery'); i++) await new Promise((r) => setTimeout(r, 20));
    const kinds = points.map((p) => p.blobs?.slice(0, 2));
    expect(kinds).toEqual(expect.arrayContaining([['message', 'text'], ['fanout', 'rpc'], ['delivery', 'rpc']]));
    const fanout = points.find((p) => p.indexes?.[0] === 'fanout')!;
    expect(fanout.doubles).toEqual([2]);
  });
});
