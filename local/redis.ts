/**
 * A local stand-in for Upstash Redis: an HTTP server speaking the Upstash REST
 * protocol, so `@upstash/redis` (and `@upstash/ratelimit` on top of it) run
 * unchanged offline — only the URL and token differ from production.
 *
 * Wire protocol, as the official client uses it:
 *   POST /            body `["SET","k","v","EX",10]`  → `{"result": …}`
 *   POST /pipeline    body `[[cmd…], …]`              → `[{"result"}|{"error"}, …]`
 *   POST /multi-exec  same, run atomically (MULTI/EXEC)
 *   GET|POST /set/k/v path form; a POST body is the last argument, query
 *                     parameters (`?EX=100`) follow it
 * `Authorization: Bearer <token>` (or `?_token=`) is required: 401 otherwise.
 * Command errors are `{"error": "ERR …"}` with status 400. With the header
 * `Upstash-Encoding: base64` every string in a result is base64-encoded,
 * except a plain "OK" result.
 *
 * Storage is `ioredis-mock` (in memory, per emulator), or a real Redis via
 * `ioredis` when `redisUrl` is given. In mock mode all requests run one at a
 * time, which is what makes /multi-exec atomic there.
 *
 * Lua: `@upstash/ratelimit` scripts start with a Redis 7.4 shebang
 * (`#!lua flags=allow-key-locking`) that neither ioredis-mock's Lua nor
 * Redis 7.0 accepts, so EVAL and SCRIPT LOAD drop a `#!` first line. The
 * client computes EVALSHA hashes over the original text, so SCRIPT LOAD is
 * answered here (sha1 of the original) and EVALSHA of a known hash runs the
 * stripped script; unknown hashes go to the backend, which answers NOSCRIPT.
 */
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import IORedis from 'ioredis';
import RedisMock from 'ioredis-mock';
import { readBody } from './http.ts';

export interface RedisEmulator {
  url: string;
  close(): Promise<void>;
}

type Reply = { result: unknown } | { error: string };
interface Backend {
  run(name: string, args: string[]): Promise<unknown>;
  pipeline(cmds: [string, string[]][]): Promise<Reply[]>;
  multi(cmds: [string, string[]][]): Promise<Reply[]>;
  close(): Promise<void>;
}

/** Commands that need a connection's state, which a stateless HTTP request has not. */
const STATEFUL = new Set(['multi', 'exec', 'discard', 'watch', 'unwatch', 'select', 'quit',
  'subscribe', 'psubscribe', 'ssubscribe', 'monitor', 'reset', 'hello', 'auth']);

const errorText = (e: unknown) => {
  const msg = e instanceof Error ? e.message : String(e);
  return /^[A-Z]{2,} /.test(msg) ? msg : `ERR ${msg}`; // ioredis-mock's messages lack the code
};
const unknownCommand = (name: string, args: string[]) =>
  new Error(`ERR unknown command '${name}', with args beginning with: ${args.map((a) => `'${a}' `).join('')}`);

/**
 * ioredis-mock only knows upper-case option keywords, and the client sends some lower-case
 * (`set k v ex 10`). Where a command's options start; zadd's options end at its first score.
 */
const OPTIONS_FROM: Record<string, number> = { set: 2, getex: 1, zadd: 1, zrange: 3, expire: 2, pexpire: 2, expireat: 2, pexpireat: 2 };
const KEYWORDS = new Set(['nx', 'xx', 'gt', 'lt', 'ch', 'incr', 'get', 'ex', 'px', 'exat', 'pxat', 'keepttl',
  'persist', 'withscores', 'byscore', 'bylex', 'rev', 'limit']);
function upperOptions(name: string, args: string[]): string[] {
  const from = OPTIONS_FROM[name] ?? args.length;
  const end = name === 'zadd' ? args.findIndex((a, i) => i >= from && !KEYWORDS.has(a.toLowerCase())) : -1;
  return args.map((a, i) => (i >= from && (end < 0 || i < end) && KEYWORDS.has(a.toLowerCase()) ? a.toUpperCase() : a));
}

function mockBackend(): Backend {
  // ioredis-mock shares data between instances with the same host:port; a unique host isolates this one.
  const redis = new RedisMock({ host: `upstash-emulator-${randomUUID()}`, port: 6379 });
  const commands = redis as unknown as Record<string, (...args: string[]) => Promise<unknown>>;
  const known = (name: string) =>
    /^[a-z][a-z_]*$/.test(name) && Object.hasOwn(redis, name) && typeof commands[name] === 'function';
  const run = async (name: string, args: string[]) => {
    if (!known(name)) throw unknownCommand(name, args);
    let result: unknown;
    try {
      result = await commands[name]!(...upperOptions(name, args));
    } catch (e) {
      if (e instanceof TypeError && e.message.startsWith('Unsupported command')) throw unknownCommand(name, args);
      throw e;
    }
    if (Number.isNaN(result)) throw new Error('ERR value is not an integer or out of range');
    return result;
  };
  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = tail.then(fn, fn);
    tail = next.catch(() => {});
    return next;
  };
  const each = async (cmds: [string, string[]][]) => {
    const replies: Reply[] = [];
    for (const [name, args] of cmds) {
      replies.push(await run(name, args).then((result) => ({ result }), (e) => ({ error: errorText(e) })));
    }
    return replies;
  };
  return {
    run: (name, args) => serial(() => run(name, args)),
    pipeline: (cmds) => serial(() => each(cmds)),
    multi: (cmds) => serial(async () => {
      // Like Redis, an unknown command discards the whole transaction before anything runs.
      if (cmds.some(([name]) => !known(name))) throw new Error('EXECABORT Transaction discarded because of previous errors.');
      return each(cmds);
    }),
    close: async () => {
      await redis.flushall();
      redis.disconnect();
    },
  };
}

async function realBackend(url: string): Promise<Backend> {
  const redis = new IORedis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect().catch((e) => { redis.disconnect(); throw e; });
  const replies = (res: [Error | null, unknown][] | null): Reply[] =>
    (res ?? []).map(([err, result]) => (err ? { error: errorText(err) } : { result }));
  return {
    // Buffers keep binary values intact until they are encoded for the response.
    run: (name, args) => redis.callBuffer(name, ...args),
    pipeline: async (cmds) => replies(await redis.pipeline(cmds.map(([n, a]) => ['callBuffer', n, ...a])).exec()),
    multi: async (cmds) => replies(await redis.multi(cmds.map(([n, a]) => ['callBuffer', n, ...a])).exec()),
    close: async () => { await redis.quit(); },
  };
}

/** ioredis(-mock) reply → the JSON the REST API returns. */
function toJson(v: unknown, base64: boolean, top = true): unknown {
  if (v === null || v === undefined || v === false) return null; // Lua false is nil in Redis
  if (v === true) return 1;
  if (typeof v === 'number' || typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' || Buffer.isBuffer(v)) {
    const buf = Buffer.isBuffer(v) ? v : Buffer.from(v);
    const text = buf.toString('utf8');
    return !base64 || (top && text === 'OK') ? text : buf.toString('base64');
  }
  if (Array.isArray(v)) return v.map((x) => toJson(x, base64, false));
  // ioredis turns HGETALL (and the like) into objects; the wire format is a flat array.
  return Object.entries(v as object).flat().map((x) => toJson(x, base64, false));
}

export async function startRedisEmulator(opts: {
  port: number;
  host?: string;
  token: string;
  redisUrl?: string;
}): Promise<RedisEmulator> {
  const host = opts.host ?? '127.0.0.1';
  const backend = opts.redisUrl ? await realBackend(opts.redisUrl) : mockBackend();
  const scripts = new Map<string, string>(); // sha1 of the original script → script without its shebang

  const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
  const strip = (script: string) => {
    const body = script.startsWith('#!') ? script.slice(script.indexOf('\n') + 1) : script;
    scripts.set(sha1(script), body);
    return body;
  };
  /** Normalizes one command; returns a value instead when it is answered here. */
  const prepare = (cmd: unknown): [string, string[]] | { local: unknown } => {
    if (!Array.isArray(cmd) || cmd.length === 0) throw new Error('ERR failed to parse command');
    const [name, ...args] = cmd.map((a) => (typeof a === 'string' ? a : JSON.stringify(a)));
    const lower = name!.toLowerCase();
    if (STATEFUL.has(lower)) throw new Error(`ERR command '${name}' is not supported over REST`);
    if ((lower === 'eval' || lower === 'eval_ro') && args.length > 0) return [lower, [strip(args[0]!), ...args.slice(1)]];
    const known = scripts.get(args[0]?.toLowerCase() ?? '');
    if ((lower === 'evalsha' || lower === 'evalsha_ro') && known !== undefined)
      return [lower === 'evalsha' ? 'eval' : 'eval_ro', [known, ...args.slice(1)]];
    if (lower === 'script') {
      const sub = args[0]?.toLowerCase();
      if (sub === 'load' && args[1] !== undefined) {
        strip(args[1]);
        return { local: sha1(args[1]) };
      }
      if (sub === 'exists') return { local: args.slice(1).map((s) => (scripts.has(s.toLowerCase()) ? 1 : 0)) };
      if (sub === 'flush') {
        scripts.clear();
        return { local: 'OK' };
      }
    }
    return [lower, args];
  };
  const batch = async (body: unknown, atomic: boolean): Promise<Reply[]> => {
    if (!Array.isArray(body)) throw new Error('ERR failed to parse pipeline request');
    const prepared = body.map((cmd) => { try { return prepare(cmd); } catch (e) { return { error: errorText(e) }; } });
    const toRun = prepared.filter((p): p is [string, string[]] => Array.isArray(p));
    if (atomic && prepared.some((p) => 'error' in p)) throw new Error('EXECABORT Transaction discarded because of previous errors.');
    const ran = toRun.length === 0 ? [] : await (atomic ? backend.multi(toRun) : backend.pipeline(toRun));
    return prepared.map((p) => (Array.isArray(p) ? ran.shift()! : 'local' in p ? { result: p.local } : p));
  };

  const server = http.createServer(async (req, res) => {
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
    };
    const url = new URL(req.url ?? '/', 'http://localhost');
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : url.searchParams.get('_token');
    if (token !== opts.token) return send(401, { error: 'Unauthorized' });
    if (!['GET', 'HEAD', 'POST', 'PUT'].includes(req.method ?? '')) return send(405, { error: 'Method Not Allowed' });
    const raw = (await readBody(req)).toString('utf8');
    const base64 = String(req.headers['upstash-encoding']).toLowerCase() === 'base64';
    const encode = (r: Reply) => ('error' in r ? r : { result: toJson(r.result, base64) });
    try {
      const parsed = () => { try { return JSON.parse(raw) as unknown; } catch { throw new Error('ERR failed to parse command'); } };
      if (url.pathname === '/pipeline' || url.pathname === '/multi-exec') {
        return send(200, (await batch(parsed(), url.pathname === '/multi-exec')).map(encode));
      }
      let cmd: unknown;
      if (url.pathname === '/' || url.pathname === '') cmd = parsed();
      else {
        cmd = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
        if (raw) (cmd as string[]).push(raw);
        for (const [k, v] of url.searchParams) if (k !== '_token') (cmd as string[]).push(...(v ? [k, v] : [k]));
      }
      const p = prepare(cmd);
      send(200, encode({ result: Array.isArray(p) ? await backend.run(p[0], p[1]) : p.local }));
    } catch (e) {
      send(400, { error: errorText(e) });
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject).listen(opts.port, host, () => resolve());
  }).catch(async (e) => {
    await backend.close();
    throw e;
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await backend.close();
    },
  };
}
