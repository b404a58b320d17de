/**
 * The Beehive side of the harness: REST calls (register, friendships,
 * conversations, history) and device sockets, against a running API.
 */
import { BenchSocket } from './socket.ts';
import { mapLimit } from './timing.ts';

export interface BenchUser {
  id: string;
  username: string;
  token: string;
}

export interface ApiResult<T = any> {
  status: number;
  body: T;
}

const PASSWORD = 'bench horse battery staple';

export class Beehive {
  /** A per-run prefix keeps usernames unique when BENCH_API points at a long-lived stack. */
  private readonly prefix = `b${Date.now().toString(36)}`;
  private counter = 0;

  readonly api: string;

  constructor(api: string) {
    this.api = api;
  }

  async call<T = any>(method: string, path: string, opts: { token?: string; body?: unknown } = {}): Promise<ApiResult<T>> {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.api}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }

  private async expect<T = any>(status: number[], method: string, path: string, opts: { token?: string; body?: unknown } = {}): Promise<T> {
    const res = await this.call<T>(method, path, opts);
    if (!status.includes(res.status)) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    return res.body;
  }

  async register(): Promise<BenchUser> {
    const username = `${this.prefix}_${++this.counter}`;
    const body = await this.expect<{ user: { id: string }; accessToken: string }>([201], 'POST', '/api/v1/auth/register', { body: { username, password: PASSWORD } });
    return { id: body.user.id, username, token: body.accessToken };
  }

  /** Registers `n` users, `parallel` at a time (each costs a scrypt hash in the Worker). */
  registerMany(n: number, parallel = 20): Promise<BenchUser[]> {
    return mapLimit(Array.from({ length: n }), parallel, () => this.register());
  }

  /** Makes a and b friends (b's request accepts a's) and returns their single conversation. */
  async single(a: BenchUser, b: BenchUser): Promise<string> {
    await this.expect([201], 'POST', '/api/v1/friends/requests', { token: a.token, body: { toUserId: b.id } });
    await this.expect([201], 'POST', '/api/v1/friends/requests', { token: b.token, body: { toUserId: a.id } });
    const conv = await this.expect<{ id: string }>([200, 201], 'POST', '/api/v1/conversations', { token: a.token, body: { kind: 'single', peerId: b.id } });
    return conv.id;
  }

  async group(owner: BenchUser, members: BenchUser[], name: string): Promise<string> {
    const conv = await this.expect<{ id: string }>([201], 'POST', '/api/v1/conversations', {
      token: owner.token,
      body: { kind: 'group', name, memberIds: members.map((m) => m.id) },
    });
    return conv.id;
  }

  /** Opens one device socket of `user`. */
  device(user: BenchUser, deviceId: string, timeoutMs?: number): Promise<BenchSocket> {
    const url = `${this.api.replace(/^http/, 'ws')}/api/v1/ws?deviceId=${encodeURIComponent(deviceId)}`;
    return BenchSocket.open(url, { headers: { authorization: `Bearer ${user.token}` }, label: `${user.username}/${deviceId}`, timeoutMs });
  }
}
