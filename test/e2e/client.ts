/** A small client for the e2e tests: the API, the mailbox, and whole-account helpers. */
import { expect, inject } from 'vitest';

export const stack = inject('stack');

export interface ApiResult<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export async function api<T = any>(
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<ApiResult<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.raw !== undefined) {
    body = opts.raw;
    headers['content-type'] ??= 'application/json';
  } else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${stack.api}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

let counter = 0;
/** A fresh, valid username (unique per run). */
export function uniqueName(prefix = 'u'): string {
  counter += 1;
  return `${prefix}${Date.now().toString(36)}${process.pid.toString(36)}${counter}`.slice(0, 32);
}

export async function mailbox(to: string): Promise<Array<{ to: string; subject: string; text: string; sentAt: string }>> {
  const res = await fetch(`${stack.mailbox}/mailbox?to=${encodeURIComponent(to)}`);
  return ((await res.json()) as { messages: any[] }).messages;
}

/** The code in the newest mail to `to`. */
export async function latestCode(to: string): Promise<string> {
  const mails = await mailbox(to);
  const match = mails.at(-1)?.text.match(/\b(\d{6})\b/);
  if (!match) throw new Error(`no code mailed to ${to}`);
  return match[1]!;
}

export interface Account {
  user: { id: string; username: string; email?: string };
  accessToken: string;
  refreshToken: string;
  password: string;
}

/** Registers a user without email (or with one, going through the emailed code). */
export async function register(opts: { email?: boolean; password?: string } = {}): Promise<Account> {
  const username = uniqueName();
  const password = opts.password ?? 'correct horse battery';
  const body: Record<string, string> = { username, password };
  if (opts.email) {
    body.email = `${username}@example.test`;
    const sent = await api('POST', '/api/v1/auth/send-code', { body: { email: body.email, purpose: 'register' } });
    if (sent.status !== 202) throw new Error(`send-code: ${sent.status} ${JSON.stringify(sent.body)}`);
    body.code = await latestCode(body.email);
  }
  const res = await api('POST', '/api/v1/auth/register', { body });
  if (res.status !== 201) throw new Error(`register: ${res.status} ${JSON.stringify(res.body)}`);
  return { ...res.body, password };
}

/** One command on the stack's Redis, through its Upstash REST endpoint (as the Worker reaches it). */
export async function redis(...command: Array<string | number>): Promise<unknown> {
  const res = await fetch(stack.redis, { method: 'POST', headers: { authorization: `Bearer ${stack.redisToken}` }, body: JSON.stringify(command) });
  const body = (await res.json()) as { result?: unknown; error?: string };
  if (!res.ok || body.error) throw new Error(`redis ${command[0]}: ${res.status} ${body.error}`);
  return body.result;
}
type Tuple<N extends number, T, R extends T[] = []> = R['length'] extends N ? R : Tuple<N, T, [...R, T]>;
/** `n` fresh accounts, registered in parallel. */
export const users = <N extends number>(n: N) => Promise.all(Array.from({ length: n }, () => register())) as Promise<Tuple<N, Account>>;

/** Friends through the public API: a asks, b accepts (already friends: nothing to do). */
export async function befriend(a: Account, b: Account): Promise<void> {
  const asked = await api('POST', '/api/v1/friends/requests', { token: a.accessToken, body: { toUserId: b.user.id } });
  if (asked.status === 409 && asked.body?.error?.code === 'already_friends') return;
  if (asked.status !== 201) throw new Error(`befriend: request ${asked.status} ${JSON.stringify(asked.body)}`);
  const accepted = await api('POST', `/api/v1/friends/requests/${asked.body.request.id}/accept`, { token: b.accessToken, body: {} });
  if (accepted.status !== 200) throw new Error(`befriend: accept ${accepted.status} ${JSON.stringify(accepted.body)}`);
}

/** A group of `owner` and `members` (who become the owner's friends first: only friends can be added). */
export async function createGroup(owner: Account, members: Account[], name = 'team'): Promise<any> {
  await Promise.all(members.map((m) => befriend(owner, m)));
  const res = await api('POST', '/api/v1/conversations', { token: owner.accessToken, body: { kind: 'group', name, memberIds: members.map((m) => m.user.id) } });
  if (res.status !== 201) throw new Error(`createGroup: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** An error response: its status and code, with a message. */
export function expectError(res: { status: number; body: any }, status: number, code: string): void {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
  expect(typeof res.body.error.message).toBe('string');
}

/** Polls `probe` until `ok` holds or `ms` pass, and returns the last value (for what is updated in the background). */
export async function eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}
