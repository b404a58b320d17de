/**
 * Local stand-in for Upstash QStash: the v2 REST API as the official
 * `@upstash/qstash` `Client` speaks it, so the Worker only changes `QSTASH_URL`.
 *
 * - `POST /v2/publish/<url>` and `POST /v2/batch` (URL destinations only; no URL
 *   groups, queues, schedules or LLM APIs). Honours `Upstash-Method`, `-Delay`,
 *   `-Not-Before`, `-Retries` (default 3), `-Timeout` (not `-Retry-Delay`),
 *   `-Deduplication-Id`, `-Content-Based-Deduplication` (10 min window; a duplicate
 *   gets 202 and the first messageId), `-Forward-*`, `-Callback`, `-Failure-Callback`.
 * - Deliveries carry `Upstash-Message-Id`, `Upstash-Retried` and an
 *   `Upstash-Signature` JWT signed like QStash's (HS256 with the current signing
 *   key; iss "Upstash", sub = destination URL, 5 min lifetime, body = SHA-256 of the
 *   raw body), so `Receiver` verifies it. They run in parallel and unordered, at
 *   least once. Non-2xx or network error → retry with backoff (QStash uses
 *   min(1 day, e^(2.5·n) s); here `backoffMs`, default 250 ms·2^n capped at 30 s),
 *   then the DLQ: `GET/DELETE /v2/dlq[/<dlqId>]`, `POST /v2/dlq/retry`.
 * - `GET/DELETE /v2/messages/<id>` for pending messages, `GET /v2/keys`.
 * - Pending messages, the DLQ and dedup ids persist in `stateFile` (temp file +
 *   rename); a restart reschedules them. One timer per pending message.
 */
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { readBody } from './http.ts';
import { stateFile } from './state-file.ts';

export interface QStashEmulator { url: string; close(): Promise<void> }
export interface QStashEmulatorOptions {
  port: number; host?: string; token: string; currentSigningKey: string; nextSigningKey: string;
  /** JSON file for persistence. */
  stateFile: string;
  log?: (event: Record<string, unknown>) => void;
  /** Delay before retry number `attempt` (1 = first retry). */
  backoffMs?: (attempt: number) => number;
}

interface Msg {
  messageId: string; url: string; method: string;
  header: Record<string, string>; // forwarded to the destination (prefix stripped)
  body: string; // base64 of the raw bytes
  maxRetries: number; retried: number; notBefore: number; createdAt: number;
  timeoutMs?: number; callback?: string; failureCallback?: string;
}
interface DlqEntry extends Msg { dlqId: string; responseStatus?: number; responseBody?: string; responseHeader?: Record<string, string[]> }
type Reply = { status: number; json?: unknown };

const DEDUP_WINDOW_MS = 10 * 60_000;
const DEFAULT_TIMEOUT_MS = 60_000;
const MAX_TIMER_MS = 2 ** 31 - 1;
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

const id = (prefix: string) => prefix + randomBytes(15).toString('base64url');

/** `10s`, `2m`, `1h30m`, or a bare number of seconds. */
function parseDuration(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(value)) throw new Error(`invalid duration: ${value}`);
  let ms = 0;
  for (const [, n, , unit] of value.matchAll(/(\d+(\.\d+)?)(ms|s|m|h|d)/g)) ms += Number(n) * UNITS[unit!]!;
  return ms;
}

/** The message as QStash's API shows it (`Message` / `DlqMessage` in the client). */
function view(m: Msg | DlqEntry): Record<string, unknown> {
  const { body, header, timeoutMs, retried, ...rest } = m;
  const bytes = Buffer.from(body, 'base64');
  const text = bytes.toString('utf8');
  return {
    ...rest,
    header: Object.fromEntries(Object.entries(header).map(([k, v]) => [k, [v]])),
    ...(Buffer.from(text).equals(bytes) ? { body: text } : { bodyBase64: body }),
  };
}

export async function startQStashEmulator(opts: QStashEmulatorOptions): Promise<QStashEmulator> {
  const log = opts.log ?? (() => {});
  const backoffMs = opts.backoffMs ?? ((n: number) => Math.min(30_000, 250 * 2 ** n));
  const key = new TextEncoder().encode(opts.currentSigningKey);
  const pending = new Map<string, Msg>();
  const dlq = new Map<string, DlqEntry>();
  const dedup = new Map<string, { messageId: string; expires: number }>();
  const timers = new Map<string, NodeJS.Timeout>();
  const inflight = new Set<Promise<void>>();
  const stop = new AbortController();

  // --- persistence: the whole state, coalesced atomic writes ---
  const state = stateFile(opts.stateFile, () => {
    const now = Date.now();
    for (const [k, v] of dedup) if (v.expires <= now) dedup.delete(k);
    return { pending: [...pending.values()], dlq: [...dlq.values()], dedup: Object.fromEntries(dedup) };
  }, (error) => log({ event: 'qstash.persist_failed', error: String(error) }));
  const persist = () => state.save();
  const saved = (await state.load()) as { pending?: Msg[]; dlq?: DlqEntry[]; dedup?: Record<string, { messageId: string; expires: number }> } | undefined;
  for (const m of saved?.pending ?? []) pending.set(m.messageId, m);
  for (const e of saved?.dlq ?? []) dlq.set(e.dlqId, e);
  for (const [k, v] of Object.entries(saved?.dedup ?? {})) dedup.set(k, v);

  // --- scheduling and delivery ---
  function schedule(m: Msg) {
    clearTimeout(timers.get(m.messageId));
    const wait = Math.max(0, m.notBefore - Date.now());
    timers.set(m.messageId, setTimeout(() => {
      timers.delete(m.messageId);
      if (Date.now() < m.notBefore) return schedule(m); // waits longer than a timer can hold
      const run = deliver(m).finally(() => inflight.delete(run));
      inflight.add(run);
    }, Math.min(wait, MAX_TIMER_MS)));
  }

  function enqueue(m: NewMsg): Msg {
    const msg: Msg = { ...m, messageId: id('msg_'), retried: 0, createdAt: Date.now() };
    pending.set(msg.messageId, msg);
    schedule(msg);
    return msg;
  }

  const sign = (url: string, body: Buffer) => {
    const now = Math.floor(Date.now() / 1000);
    const hash = createHash('sha256').update(body).digest('base64url') + '='; // QStash keeps the padding
    return new SignJWT({ iss: 'Upstash', sub: url, exp: now + 300, nbf: now, iat: now, jti: id('jwt_'), body: hash })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(key);
  };

  /** QStash's callback body: the delivery outcome plus the source message. */
  function notify(url: string | undefined, m: Msg, status: number, resHeader: Record<string, string[]>, resBody: Buffer) {
    if (!url) return;
    const body = JSON.stringify({
      status, header: resHeader, body: resBody.toString('base64'), retried: m.retried, maxRetries: m.maxRetries,
      sourceMessageId: m.messageId, url: m.url, method: m.method, sourceHeader: view(m).header, sourceBody: m.body,
      notBefore: m.notBefore, createdAt: m.createdAt,
    });
    enqueue({ url, method: 'POST', header: { 'content-type': 'application/json' }, body: Buffer.from(body).toString('base64'), maxRetries: 3, notBefore: Date.now() });
  }

  async function deliver(m: Msg) {
    if (stop.signal.aborted || pending.get(m.messageId) !== m) return;
    const body = Buffer.from(m.body, 'base64');
    const started = Date.now();
    let status = 0, resBody = Buffer.alloc(0), resHeader: Record<string, string[]> = {}, error: string | undefined;
    try {
      const res = await fetch(m.url, {
        method: m.method,
        headers: { ...m.header, 'user-agent': 'Upstash-QStash', 'upstash-message-id': m.messageId, 'upstash-retried': String(m.retried), 'upstash-signature': await sign(m.url, body) },
        body: m.method === 'GET' || m.method === 'HEAD' ? undefined : body,
        signal: AbortSignal.any([stop.signal, AbortSignal.timeout(m.timeoutMs ?? DEFAULT_TIMEOUT_MS)]),
      });
      status = res.status;
      resHeader = Object.fromEntries([...res.headers].map(([k, v]) => [k, [v]]));
      resBody = Buffer.from(await res.arrayBuffer());
    } catch (e) {
      error = String((e as Error).cause ?? e);
    }
    if (stop.signal.aborted || pending.get(m.messageId) !== m) return; // closing (stays pending) or cancelled
    const ok = status >= 200 && status < 300;
    log({ event: 'qstash.delivery', messageId: m.messageId, url: m.url, attempt: m.retried + 1, maxRetries: m.maxRetries, status, ok, error, ms: Date.now() - started });
    if (ok) {
      pending.delete(m.messageId);
      notify(m.callback, m, status, resHeader, resBody);
    } else if (m.retried < m.maxRetries) {
      m.retried++;
      m.notBefore = Date.now() + backoffMs(m.retried);
      schedule(m);
    } else {
      pending.delete(m.messageId);
      const dlqId = id('dlq_');
      dlq.set(dlqId, { ...m, dlqId, responseStatus: status || undefined, responseHeader: resHeader, responseBody: resBody.toString('utf8') || error });
      log({ event: 'qstash.dlq', messageId: m.messageId, dlqId, url: m.url });
      notify(m.failureCallback, m, status, resHeader, resBody);
    }
    await persist();
  }

  // --- publishing ---
  type NewMsg = Omit<Msg, 'messageId' | 'retried' | 'createdAt'>;
  /** Reads a publish request; validation happens before anything of a batch is enqueued. */
  function parsePublish(url: string, h: Headers, body: Buffer): { msg: NewMsg; dedupId?: string } | { error: string } {
    if (!/^https?:\/\/[^/]/.test(url)) return { error: `the local QStash emulator only publishes to URLs, not "${url}"` };
    const header: Record<string, string> = {};
    for (const [k, v] of h) {
      if (k.startsWith('upstash-forward-')) header[k.slice('upstash-forward-'.length)] = v;
      else if (k === 'content-type') header[k] = v;
    }
    let delay: number | undefined, timeoutMs: number | undefined;
    try {
      delay = parseDuration(h.get('upstash-delay'));
      timeoutMs = parseDuration(h.get('upstash-timeout'));
    } catch (error) {
      return { error: (error as Error).message };
    }
    const maxRetries = Number(h.get('upstash-retries') ?? 3);
    if (!Number.isInteger(maxRetries) || maxRetries < 0) return { error: 'invalid Upstash-Retries' };
    const notBefore = h.get('upstash-not-before');
    const dedupId = h.get('upstash-deduplication-id') ?? (h.get('upstash-content-based-deduplication') === 'true'
      ? createHash('sha256').update(JSON.stringify([url, Object.entries(header).sort(), body.toString('base64')])).digest('hex') : undefined);
    return {
      dedupId,
      msg: {
        url, method: (h.get('upstash-method') ?? 'POST').toUpperCase(), header, body: body.toString('base64'), maxRetries,
        notBefore: notBefore ? Number(notBefore) * 1000 : Date.now() + (delay ?? 0),
        timeoutMs, callback: h.get('upstash-callback') ?? undefined, failureCallback: h.get('upstash-failure-callback') ?? undefined,
      },
    };
  }

  /** Enqueues (or deduplicates) validated requests, then waits until the state is durable. */
  async function publish(requests: { msg: NewMsg; dedupId?: string }[]) {
    const replies = requests.map(({ msg, dedupId }) => {
      const seen = dedupId === undefined ? undefined : dedup.get(dedupId);
      if (seen && seen.expires > Date.now()) return { messageId: seen.messageId, url: msg.url, deduplicated: true };
      const m = enqueue(msg);
      if (dedupId !== undefined) dedup.set(dedupId, { messageId: m.messageId, expires: Date.now() + DEDUP_WINDOW_MS });
      log({ event: 'qstash.publish', messageId: m.messageId, url: m.url, notBefore: m.notBefore });
      return { messageId: m.messageId, url: m.url };
    });
    await persist();
    return replies;
  }

  /** DLQ entries matching the query's filters (`dlqIds`, `messageId`, `url`, `responseStatus`). */
  function selectDlq(q: URLSearchParams): DlqEntry[] {
    const ids = q.getAll('dlqIds');
    return [...dlq.values()].filter((e) => (!ids.length || ids.includes(e.dlqId))
      && (!q.get('messageId') || e.messageId === q.get('messageId')) && (!q.get('url') || e.url === q.get('url'))
      && (!q.get('responseStatus') || String(e.responseStatus) === q.get('responseStatus')));
  }
  /** Bulk actions remove what they touch, so each call takes the first `count` and says whether more remain. */
  function takeBatch<T>(items: T[], q: URLSearchParams) {
    const count = Number(q.get('count') || 100);
    return { batch: items.slice(0, count), cursor: items.length > count ? String(count) : undefined };
  }

  async function route(method: string, rawUrl: string, h: Headers, body: Buffer): Promise<Reply> {
    if (h.get('authorization') !== `Bearer ${opts.token}`) return { status: 401, json: { error: 'Unauthorized' } };
    if (method === 'POST' && rawUrl.startsWith('/v2/publish/')) {
      const parsed = parsePublish(rawUrl.slice('/v2/publish/'.length), h, body);
      if ('error' in parsed) return { status: 400, json: parsed };
      const [reply] = await publish([parsed]);
      return { status: reply?.deduplicated ? 202 : 200, json: reply };
    }
    const { pathname, searchParams: q } = new URL(rawUrl, 'http://qstash.local');
    if (method === 'POST' && pathname === '/v2/batch') {
      let entries: unknown;
      try { entries = JSON.parse(body.toString('utf8')); } catch { return { status: 400, json: { error: 'invalid JSON' } }; }
      if (!Array.isArray(entries)) return { status: 400, json: { error: 'expected an array' } };
      const parsed = entries.map((e: { destination: string; headers?: Record<string, string>; body?: string }) =>
        parsePublish(String(e.destination), new Headers(e.headers ?? {}), Buffer.from(e.body ?? '')));
      const invalid = parsed.find((p) => 'error' in p);
      if (invalid) return { status: 400, json: invalid };
      return { status: 200, json: await publish(parsed as { msg: NewMsg; dedupId?: string }[]) };
    }
    const [, resource, idPart, extra] = pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const notFound = { status: 404, json: { error: 'not found' } };
    if (method === 'GET' && pathname === '/v2/keys') return { status: 200, json: { current: opts.currentSigningKey, next: opts.nextSigningKey } };
    if (resource === 'messages' && idPart && !extra) {
      const m = pending.get(idPart);
      if (!m) return notFound;
      if (method === 'GET') return { status: 200, json: view(m) };
      if (method === 'DELETE') {
        pending.delete(m.messageId); // a delivery in flight finishes but is not retried
        clearTimeout(timers.get(m.messageId));
        await persist();
        return { status: 200, json: { cancelled: 1 } };
      }
    }
    if (resource === 'dlq' && method === 'POST' && idPart === 'retry' && !extra) {
      const { batch, cursor } = takeBatch(selectDlq(q), q);
      const responses = batch.map((e) => {
        dlq.delete(e.dlqId);
        const { dlqId, responseStatus, responseHeader, responseBody, messageId, retried, createdAt, ...m } = e;
        return { messageId: enqueue({ ...m, notBefore: Date.now() }).messageId };
      });
      await persist();
      return { status: 200, json: { responses, cursor } };
    }
    if (resource === 'dlq' && !extra) {
      if (method === 'GET' && idPart) { const e = dlq.get(idPart); return e ? { status: 200, json: view(e) } : notFound; }
      if (method === 'GET') {
        const all = selectDlq(q), start = Number(q.get('cursor') || 0), count = Number(q.get('count') || 100);
        const cursor = start + count < all.length ? String(start + count) : undefined;
        return { status: 200, json: { messages: all.slice(start, start + count).map(view), cursor } };
      }
      if (method === 'DELETE' && idPart) {
        if (!dlq.delete(idPart)) return notFound;
        await persist();
        return { status: 200 };
      }
      if (method === 'DELETE') {
        const { batch, cursor } = takeBatch(selectDlq(q), q);
        for (const e of batch) dlq.delete(e.dlqId);
        await persist();
        return { status: 200, json: { deleted: batch.length, cursor } };
      }
    }
    return { status: 404, json: { error: `${method} ${pathname} is not supported by the local QStash emulator` } };
  }

  const server = http.createServer(async (req, res) => {
    let reply: Reply;
    try {
      const body = await readBody(req);
      const h = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
      reply = await route(req.method ?? 'GET', req.url ?? '/', h, body);
    } catch (error) {
      reply = { status: 500, json: { error: String(error) } };
    }
    res.writeHead(reply.status, reply.json === undefined ? {} : { 'content-type': 'application/json' });
    res.end(reply.json === undefined ? undefined : JSON.stringify(reply.json));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  for (const m of pending.values()) schedule(m);
  const { port } = server.address() as { port: number };
  const host = opts.host ?? '127.0.0.1';

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    async close() {
      stop.abort();
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      await new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
      await Promise.allSettled([...inflight]);
      await persist();
    },
  };
}
