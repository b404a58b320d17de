/**
 * The local QStash emulator, driven by the official `@upstash/qstash` Client and
 * checked with the official Receiver — the same code paths the Worker uses.
 */
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Receiver } from '@upstash/qstash';
import { startQStashEmulator, type QStashEmulator } from '../../local/qstash.ts';

const token = 'test-qstash-token';
const currentSigningKey = 'sig_test_current';
const nextSigningKey = 'sig_test_next';
const receiver = new Receiver({ currentSigningKey, nextSigningKey });

interface Delivery { path: string; headers: http.IncomingHttpHeaders; body: string; at: number }

/** A destination that records every request; `status(path, n)` picks the reply to the n-th hit on a path. */
async function startDestination(status: (path: string, n: number) => number = () => 200) {
  const deliveries: Delivery[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const p = req.url ?? '/';
    deliveries.push({ path: p, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
    res.writeHead(status(p, deliveries.filter((d) => d.path === p).length)).end('reply from destination');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    base, deliveries,
    to: (p: string) => deliveries.filter((d) => d.path === p),
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

async function waitFor<T>(check: () => T | undefined | false | 0 | Promise<T | undefined | false>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('local QStash emulator', () => {
  let dir: string;
  let dest: Awaited<ReturnType<typeof startDestination>>;
  let qstash: QStashEmulator;
  let client: Client;
  const events: Record<string, unknown>[] = [];
  // /flaky fails twice then succeeds; /broken fails until /broken is "repaired".
  let brokenRepaired = false;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'beehive-qstash-'));
    dest = await startDestination((p, n) => {
      if (p.startsWith('/flaky')) return n <= 2 ? 500 : 200;
      if (p.startsWith('/broken')) return brokenRepaired ? 200 : 503;
      if (p.startsWith('/dead')) return 500;
      return 200;
    });
    qstash = await startQStashEmulator({
      port: 0, token, currentSigningKey, nextSigningKey, stateFile: path.join(dir, 'state', 'qstash.json'),
      log: (e) => events.push(e), backoffMs: (n) => 20 * 2 ** n,
    });
    client = new Client({ token, baseUrl: qstash.url });
  });
  afterAll(async () => {
    await qstash?.close();
    await dest?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('delivers a publishJSON once, signed so the Receiver verifies it', async () => {
    const url = `${dest.base}/hello?x=1`;
    const res = await client.publishJSON({ url, body: { hello: 'world' }, headers: { 'X-Trace': 'abc' } });
    expect(res.messageId).toMatch(/^msg_/);
    const [d] = await waitFor(() => dest.to('/hello?x=1').length === 1 && dest.to('/hello?x=1'));
    expect(d!.body).toBe('{"hello":"world"}');
    expect(d!.headers['content-type']).toBe('application/json');
    expect(d!.headers['x-trace']).toBe('abc');
    expect(d!.headers['upstash-message-id']).toBe(res.messageId);
    expect(d!.headers['upstash-retried']).toBe('0');
    const signature = String(d!.headers['upstash-signature']);
    await expect(receiver.verify({ signature, body: d!.body, url })).resolves.toBe(true);
    await expect(receiver.verify({ signature, body: '{"hello":"mallory"}', url })).rejects.toThrow(/body hash/);
    await expect(receiver.verify({ signature, body: d!.body, url: `${dest.base}/other` })).rejects.toThrow(/subject/);
    await expect(new Receiver({ currentSigningKey: 'sig_wrong', nextSigningKey: 'sig_wrong2' }).verify({ signature, body: d!.body, url })).rejects.toThrow();
    await sleep(200);
    expect(dest.to('/hello?x=1')).toHaveLength(1);
  });

  it('forwards raw bodies with their Content-Type and the Upstash-Method', async () => {
    await client.publish({ url: `${dest.base}/raw`, body: 'plain text', headers: { 'Content-Type': 'text/plain' }, method: 'PUT' });
    const [d] = await waitFor(() => dest.to('/raw').length && dest.to('/raw'));
    expect(d!.body).toBe('plain text');
    expect(d!.headers['content-type']).toBe('text/plain');
    await expect(receiver.verify({ signature: String(d!.headers['upstash-signature']), body: d!.body, url: `${dest.base}/raw` })).resolves.toBe(true);
  });

  it('honours a delay', async () => {
    const t0 = Date.now();
    await client.publishJSON({ url: `${dest.base}/delayed`, body: { n: 1 }, delay: 1 });
    await sleep(500);
    expect(dest.to('/delayed')).toHaveLength(0);
    const [d] = await waitFor(() => dest.to('/delayed').length && dest.to('/delayed'));
    expect(d!.at - t0).toBeGreaterThanOrEqual(1000);
  });

  it('deduplicates by id and by content', async () => {
    const first = await client.publishJSON({ url: `${dest.base}/dedup`, body: { n: 1 }, deduplicationId: 'job-1', delay: 1 });
    const second = await client.publishJSON({ url: `${dest.base}/dedup`, body: { n: 2 }, deduplicationId: 'job-1' });
    expect(second.messageId).toBe(first.messageId);
    expect(second.deduplicated).toBe(true);
    const a = await client.publishJSON({ url: `${dest.base}/content`, body: { same: true }, contentBasedDeduplication: true });
    const b = await client.publishJSON({ url: `${dest.base}/content`, body: { same: true }, contentBasedDeduplication: true });
    const c = await client.publishJSON({ url: `${dest.base}/content`, body: { same: false }, contentBasedDeduplication: true });
    expect(b.messageId).toBe(a.messageId);
    expect(c.messageId).not.toBe(a.messageId);
    await waitFor(() => dest.to('/dedup').length === 1 && dest.to('/content').length === 2, 4000);
    await sleep(300);
    expect(dest.to('/dedup').map((d) => d.body)).toEqual(['{"n":1}']);
    expect(dest.to('/content')).toHaveLength(2);
  });

  it('publishes a batch', async () => {
    const res = await client.batch([
      { url: `${dest.base}/batch/a`, body: 'A' },
      { url: `${dest.base}/batch/b`, body: '{"b":2}', headers: { 'Content-Type': 'application/json' } },
    ]);
    const ids = res.map((r) => (r as { messageId: string }).messageId);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toMatch(/^msg_/);
    expect(ids[0]).not.toBe(ids[1]);
    await waitFor(() => dest.to('/batch/a').length === 1 && dest.to('/batch/b').length === 1);
    expect(dest.to('/batch/a')[0]!.body).toBe('A');
    expect(dest.to('/batch/a')[0]!.headers['upstash-message-id']).toBe(ids[0]);
    expect(dest.to('/batch/b')[0]!.headers['content-type']).toBe('application/json');
    const json = await client.batchJSON([{ url: `${dest.base}/batch/c`, body: { c: 3 } }]);
    expect(json[0]!.messageId).toMatch(/^msg_/);
    await waitFor(() => dest.to('/batch/c').length === 1);
    expect(dest.to('/batch/c')[0]!.body).toBe('{"c":3}');
  });

  it('retries a failing destination with backoff until it succeeds', async () => {
    const { messageId } = await client.publishJSON({ url: `${dest.base}/flaky`, body: { job: 1 } });
    await waitFor(() => dest.to('/flaky').length === 3);
    const hits = dest.to('/flaky');
    expect(hits.map((d) => d.headers['upstash-retried'])).toEqual(['0', '1', '2']);
    expect(hits.every((d) => d.headers['upstash-message-id'] === messageId)).toBe(true);
    expect(hits[2]!.at - hits[1]!.at).toBeGreaterThanOrEqual(hits[1]!.at - hits[0]!.at - 10); // 40 ms then 80 ms
    const attempts = events.filter((e) => e.event === 'qstash.delivery' && e.messageId === messageId);
    expect(attempts.map((e) => [e.attempt, e.status, e.ok])).toEqual([[1, 500, false], [2, 500, false], [3, 200, true]]);
    await sleep(300);
    expect(dest.to('/flaky')).toHaveLength(3);
    const dlq = await client.dlq.listMessages();
    expect(dlq.messages.some((m) => m.messageId === messageId)).toBe(false);
  });

  it('moves an always-failing message to the DLQ, lists, retries and deletes it', async () => {
    const { messageId } = await client.publishJSON({ url: `${dest.base}/broken`, body: { job: 2 }, retries: 2 });
    const entry = await waitFor(() => events.some((e) => e.event === 'qstash.dlq' && e.messageId === messageId), 5000)
      .then(() => client.dlq.listMessages())
      .then((r) => r.messages.find((m) => m.messageId === messageId));
    expect(dest.to('/broken')).toHaveLength(3); // first attempt + 2 retries
    expect(entry).toMatchObject({ url: `${dest.base}/broken`, method: 'POST', body: '{"job":2}', responseStatus: 503, maxRetries: 2 });
    expect(entry!.responseBody).toBe('reply from destination');
    expect(entry!.header).toMatchObject({ 'content-type': ['application/json'] });

    brokenRepaired = true;
    const { responses } = await client.dlq.retry(entry!.dlqId);
    expect(responses).toHaveLength(1);
    await waitFor(() => dest.to('/broken').length === 4);
    const retried = dest.to('/broken')[3]!;
    expect(retried.headers['upstash-message-id']).toBe(responses[0]!.messageId);
    await expect(receiver.verify({ signature: String(retried.headers['upstash-signature']), body: retried.body, url: `${dest.base}/broken` })).resolves.toBe(true);
    expect((await client.dlq.listMessages()).messages.find((m) => m.dlqId === entry!.dlqId)).toBeUndefined();

    const dead = await Promise.all([1, 2].map((n) => client.publishJSON({ url: `${dest.base}/dead`, body: { n }, retries: 0 })));
    await waitFor(() => dead.every((d) => events.some((e) => e.event === 'qstash.dlq' && e.messageId === d.messageId)));
    expect(dest.to('/dead')).toHaveLength(2); // retries: 0 → a single attempt each
    const { messages } = await client.dlq.listMessages({ filter: { url: `${dest.base}/dead` } });
    expect(messages.map((m) => m.messageId).sort()).toEqual(dead.map((d) => d.messageId).sort());
    expect(await client.dlq.delete(messages[0]!.dlqId)).toEqual({ deleted: 1 });
    expect(await client.dlq.delete([messages[1]!.dlqId])).toEqual({ deleted: 1 });
    expect((await client.dlq.listMessages({ filter: { url: `${dest.base}/dead` } })).messages).toHaveLength(0);
  });

  it('calls the callback after delivery and the failure callback on giving up', async () => {
    const ok = await client.publishJSON({ url: `${dest.base}/with-callback`, body: { n: 1 }, callback: `${dest.base}/cb` });
    const [cb] = await waitFor(() => dest.to('/cb').length && dest.to('/cb'));
    await expect(receiver.verify({ signature: String(cb!.headers['upstash-signature']), body: cb!.body, url: `${dest.base}/cb` })).resolves.toBe(true);
    const payload = JSON.parse(cb!.body);
    expect(payload).toMatchObject({ status: 200, sourceMessageId: ok.messageId, url: `${dest.base}/with-callback`, retried: 0 });
    expect(Buffer.from(payload.body, 'base64').toString()).toBe('reply from destination');
    expect(Buffer.from(payload.sourceBody, 'base64').toString()).toBe('{"n":1}');

    const failed = await client.publishJSON({ url: `${dest.base}/dead-cb`, body: {}, retries: 1, failureCallback: `${dest.base}/fcb` });
    const [fcb] = await waitFor(() => dest.to('/fcb').length && dest.to('/fcb'));
    expect(JSON.parse(fcb!.body)).toMatchObject({ status: 500, sourceMessageId: failed.messageId, retried: 1, maxRetries: 1 });
    expect(dest.to('/dead-cb')).toHaveLength(2);
  });

  it('reads and cancels a pending message', async () => {
    const { messageId } = await client.publishJSON({ url: `${dest.base}/cancelled`, body: { n: 1 }, delay: 1 });
    const message = await client.messages.get(messageId);
    expect(message).toMatchObject({ messageId, url: `${dest.base}/cancelled`, body: '{"n":1}' });
    expect(await client.messages.cancel(messageId)).toEqual({ cancelled: 1 });
    await expect(client.messages.get(messageId)).rejects.toMatchObject({ status: 404 });
    await sleep(1300);
    expect(dest.to('/cancelled')).toHaveLength(0);
  });

  it('rejects a bad token with 401', async () => {
    const bad = new Client({ token: 'wrong', baseUrl: qstash.url, retry: false });
    await expect(bad.publishJSON({ url: `${dest.base}/nope`, body: {} })).rejects.toMatchObject({ status: 401 });
    const raw = await fetch(`${qstash.url}/v2/dlq`);
    expect(raw.status).toBe(401);
    await sleep(100);
    expect(dest.to('/nope')).toHaveLength(0);
  });

  it('keeps a delayed message across a restart and delivers it afterwards', async () => {
    const stateFile = path.join(dir, 'restart.json');
    const first = await startQStashEmulator({ port: 0, token, currentSigningKey, nextSigningKey, stateFile, backoffMs: () => 20 });
    const c1 = new Client({ token, baseUrl: first.url });
    const t0 = Date.now();
    const { messageId } = await c1.publishJSON({ url: `${dest.base}/after-restart`, body: { kept: true }, delay: 1 });
    await first.close();
    const saved = JSON.parse(await readFile(stateFile, 'utf8'));
    expect(saved.pending.map((m: { messageId: string }) => m.messageId)).toEqual([messageId]);
    await sleep(1200); // past the due time while nothing runs
    expect(dest.to('/after-restart')).toHaveLength(0);

    const second = await startQStashEmulator({ port: 0, token, currentSigningKey, nextSigningKey, stateFile, backoffMs: () => 20 });
    try {
      const [d] = await waitFor(() => dest.to('/after-restart').length && dest.to('/after-restart'));
      expect(d!.at - t0).toBeGreaterThanOrEqual(1000);
      expect(d!.headers['upstash-message-id']).toBe(messageId);
      await expect(receiver.verify({ signature: String(d!.headers['upstash-signature']), body: d!.body, url: `${dest.base}/after-restart` })).resolves.toBe(true);
      // Delivered messages leave the persisted state.
      await waitFor(async () => JSON.parse(await readFile(stateFile, 'utf8')).pending.length === 0);
    } finally {
      await second.close();
    }
  });
});
