/**
 * Which browser origins may use the API: the API's own origin (as requested
 * and as `PUBLIC_URL` names it) and those listed in `ALLOWED_ORIGINS`
 * (comma-separated, e.g. `https://app.example.com,http://localhost:5173`).
 * `*` in the list admits every origin, but only without credentials.
 * CORS (middleware/cors.ts) and the WebSocket Origin check (routes/ws.ts)
 * both ask here, so a page that may call the API may also open a socket.
 */

export interface OriginPolicy {
  /** Origins allowed by name: they get CORS with credentials. */
  named: ReadonlySet<string>;
  /** `*` was listed: any other origin gets CORS without credentials. */
  anyWithoutCredentials: boolean;
}

export function originPolicy(env: Pick<Env, 'ALLOWED_ORIGINS' | 'PUBLIC_URL'>, requestUrl: string): OriginPolicy {
  const listed = env.ALLOWED_ORIGINS.split(',').map((o) => o.trim().replace(/\/+$/, '')).filter(Boolean);
  const named = new Set([new URL(requestUrl).origin, new URL(env.PUBLIC_URL).origin, ...listed.filter((o) => o !== '*')]);
  return { named, anyWithoutCredentials: listed.includes('*') };
}

/** How far `origin` is trusted: `credentials` (named), `public` (only through `*`), or not at all. */
export function originTrust(policy: OriginPolicy, origin: string): 'credentials' | 'public' | 'refused' {
  if (policy.named.has(origin)) return 'credentials';
  return policy.anyWithoutCredentials ? 'public' : 'refused';
}
