/**
 * The HTTP layer of the client: JSON in and out, the error envelope turned
 * into `ApiError`, the bearer token attached, and an expired access token
 * renewed once through `POST /auth/refresh` (single-flight) before the
 * request is retried.
 */
import type { ErrorCode, Tokens } from './types.ts';

/** An answer with the API's error envelope (`{error:{code,message,requestId}}`), or a network failure (`status` 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode | 'network_error';
  readonly requestId: string | undefined;
  readonly details: unknown;

  constructor(status: number, code: ErrorCode | 'network_error', message: string, requestId?: string, details?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.requestId = requestId;
    this.details = details;
  }
}

/** Where the client keeps the session's tokens (memory, localStorage, …). */
export interface TokenStore {
  get(): Tokens | null;
  set(tokens: Tokens | null): void;
}

/** A token store in memory: the default. */
export function memoryTokens(initial: Tokens | null = null): TokenStore {
  let tokens = initial;
  return { get: () => tokens, set: (t) => void (tokens = t) };
}

export interface HttpOptions {
  /** The API's origin, e.g. `https://api.beehive.chat`; '' for the page's own origin. */
  baseUrl?: string;
  tokens?: TokenStore;
  fetch?: typeof fetch;
  /** Told when the session ends on the server's word (refresh refused, session revoked): sign the user out. */
  onSignedOut?: (error: ApiError) => void;
  /**
   * Runs each token rotation exclusively across the clients sharing `tokens` (browser tabs: `navigator.locks`).
   * Two rotations of one refresh token would look like a stolen token and revoke the session.
   */
  exclusive?: <T>(run: () => Promise<T>) => Promise<T>;
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  /** Send the bearer token (default true). */
  auth?: boolean;
  signal?: AbortSignal;
}

/** Codes after which the session is over: retrying cannot help. */
const SIGNED_OUT: ReadonlySet<string> = new Set(['session_revoked', 'unauthenticated', 'invalid_credentials']);

export class HttpClient {
  readonly baseUrl: string;
  readonly tokens: TokenStore;
  private readonly fetchFn: typeof fetch;
  private readonly onSignedOut: ((error: ApiError) => void) | undefined;
  private readonly exclusive: <T>(run: () => Promise<T>) => Promise<T>;
  private refreshing: Promise<void> | null = null;

  constructor(opts: HttpOptions = {}) {
    this.baseUrl = (opts.baseUrl ?? '').replace(/\/+$/, '');
    this.tokens = opts.tokens ?? memoryTokens();
    // Bound: a bare `fetch` called as a method of another object throws "Illegal invocation" in browsers.
    const f = opts.fetch ?? globalThis.fetch;
    this.fetchFn = (input, init) => f(input, init);
    this.onSignedOut = opts.onSignedOut;
    this.exclusive = opts.exclusive ?? ((run) => run());
  }

  /** `/api/v1` + `path`, absolute. */
  url(path: string, query?: RequestOptions['query']): string {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) qs.set(k, String(v));
    const q = qs.toString();
    return `${this.baseUrl}/api/v1${path}${q ? `?${q}` : ''}`;
  }

  /** A JSON request; resolves to the parsed body (undefined for 204), rejects with `ApiError`. */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const auth = opts.auth ?? true;
    try {
      return await this.once<T>(method, path, opts, auth);
    } catch (err) {
      if (!(auth && err instanceof ApiError && err.code === 'token_expired' && this.tokens.get())) throw err;
      await this.refresh();
      return this.once<T>(method, path, opts, auth);
    }
  }

  /** Headers for requests made outside `request` (uploads): the bearer token, renewed first when it is about to expire. */
  async authHeaders(): Promise<Record<string, string>> {
    const access = this.tokens.get()?.accessToken;
    if (access && expiresWithin(access, 30)) await this.refresh().catch(() => undefined);
    const fresh = this.tokens.get()?.accessToken;
    return fresh ? { authorization: `Bearer ${fresh}` } : {};
  }

  /** Rotates the refresh token; concurrent callers share one rotation (a second would reuse a spent token and revoke the session). */
  refresh(): Promise<void> {
    const before = this.tokens.get()?.refreshToken;
    this.refreshing ??= this.exclusive(async () => {
      const current = this.tokens.get();
      if (!current) throw new ApiError(401, 'unauthenticated', 'Not signed in');
      // Another holder of the store rotated while this one waited: its tokens are the new ones.
      if (before && current.refreshToken !== before) return;
      try {
        const next = await this.once<Tokens>('POST', '/auth/refresh', { body: { refreshToken: current.refreshToken } }, false);
        this.tokens.set(next);
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) this.signedOut(err);
        throw err;
      }
    }).finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private signedOut(err: ApiError): void {
    this.tokens.set(null);
    this.onSignedOut?.(err);
  }

  private async once<T>(method: string, path: string, opts: RequestOptions, auth: boolean): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = auth ? this.tokens.get()?.accessToken : undefined;
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    let res: Response;
    try {
      res = await this.fetchFn(this.url(path, opts.query), { method, headers, body, signal: opts.signal });
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') throw err;
      throw new ApiError(0, 'network_error', 'The server cannot be reached');
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    const parsed: unknown = text ? safeJson(text) : undefined;
    if (res.ok) return parsed as T;
    const envelope = (parsed as { error?: { code?: ErrorCode; message?: string; requestId?: string; details?: unknown } } | undefined)?.error;
    const error = new ApiError(res.status, envelope?.code ?? 'internal', envelope?.message ?? `HTTP ${res.status}`, envelope?.requestId, envelope?.details);
    if (auth && res.status === 401 && SIGNED_OUT.has(error.code)) this.signedOut(error);
    throw error;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Whether a JWT's `exp` is less than `seconds` away (an unreadable token counts as expiring). */
function expiresWithin(jwt: string, seconds: number): boolean {
  try {
    const payload = JSON.parse(atob(jwt.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: number };
    return typeof payload.exp !== 'number' || payload.exp * 1000 - Date.now() < seconds * 1000;
  } catch {
    return true;
  }
}
