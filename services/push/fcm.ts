/**
 * Firebase Cloud Messaging, HTTP v1: one message to one registration token.
 *
 * Auth is Google's OAuth 2.0 service-account flow: a JWT (RS256, signed with
 * the service account's key, `aud` = its `token_uri`, scope firebase.messaging)
 * is exchanged at `token_uri` for an access token, which is cached per isolate
 * until shortly before it expires. Everything is read from the service-account
 * JSON and `FCM_API_URL`, so the local stand-in (local/push.ts) is reached by
 * configuration alone.
 */
import { importPKCS8, SignJWT, type CryptoKey } from 'jose';
import type { PushResult } from './webpush.ts';

/** The fields of a Google service-account key file this client uses. */
export interface ServiceAccount {
  project_id: string;
  private_key_id: string;
  /** PKCS #8 PEM. */
  private_key: string;
  client_email: string;
  token_uri: string;
}

export interface FcmConfig {
  serviceAccount: ServiceAccount;
  /** `https://fcm.googleapis.com` in production. */
  apiUrl: string;
}

/** An FCM v1 `Message` addressed to one device. `data` values must be strings (FCM refuses others). */
export interface FcmMessage {
  token: string;
  data?: Record<string, string>;
  notification?: { title?: string; body?: string; image?: string };
  android?: Record<string, unknown>;
  webpush?: Record<string, unknown>;
  apns?: Record<string, unknown>;
}

export interface FcmResult extends PushResult {
  /** `projects/{id}/messages/{message id}` on success. */
  name?: string;
  /** FCM's `FcmError.errorCode` on failure (`UNREGISTERED`, `QUOTA_EXCEEDED`, …). */
  errorCode?: string;
}

export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
/** Google caps an assertion's lifetime at one hour. */
const ASSERTION_SECONDS = 3600;
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** Parses and checks `FCM_SERVICE_ACCOUNT` (the key file's JSON); throws a TypeError naming what is wrong. */
export function parseServiceAccount(json: string): ServiceAccount {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new TypeError('FCM service account: not JSON');
  }
  const o = (value ?? {}) as Record<string, unknown>;
  for (const field of ['project_id', 'private_key_id', 'private_key', 'client_email', 'token_uri'] as const) {
    if (typeof o[field] !== 'string' || !o[field]) throw new TypeError(`FCM service account: ${field} is missing`);
  }
  return {
    project_id: o.project_id as string,
    private_key_id: o.private_key_id as string,
    private_key: o.private_key as string,
    client_email: o.client_email as string,
    token_uri: o.token_uri as string,
  };
}

/**
 * The deployment's FCM configuration (`FCM_SERVICE_ACCOUNT`, `FCM_API_URL`), or
 * undefined where FCM is off (the secret is `off` or empty: a web-only
 * deployment, docs/deploy.md); throws a TypeError if the JSON is malformed.
 */
export function fcmConfigOf(env: { FCM_SERVICE_ACCOUNT?: string; FCM_API_URL?: string }): FcmConfig | undefined {
  if (!env.FCM_SERVICE_ACCOUNT || env.FCM_SERVICE_ACCOUNT.trim() === 'off') return undefined;
  return { serviceAccount: parseServiceAccount(env.FCM_SERVICE_ACCOUNT), apiUrl: env.FCM_API_URL || 'https://fcm.googleapis.com' };
}

// Per isolate. Only settled values are kept: workerd must not see one request await a promise
// another request started (it may never settle there), so concurrent cold sends each fetch a token.
const tokens = new Map<string, { accessToken: string; refreshAt: number }>();
const privateKeys = new Map<string, CryptoKey>();

const cacheKey = (sa: ServiceAccount) => `${sa.token_uri} ${sa.client_email} ${sa.private_key_id}`;

async function privateKeyOf(sa: ServiceAccount): Promise<CryptoKey> {
  const key = cacheKey(sa);
  const cached = privateKeys.get(key);
  if (cached) return cached;
  const imported = await importPKCS8(sa.private_key, 'RS256');
  privateKeys.set(key, imported);
  return imported;
}

/**
 * An OAuth 2.0 access token for FCM, from the cache while it has more than
 * five minutes (or half its lifetime) left. Rejects if the token endpoint
 * refuses the assertion.
 */
export async function fcmAccessToken(sa: ServiceAccount, fetcher: typeof fetch = fetch, now = Date.now()): Promise<string> {
  const cached = tokens.get(cacheKey(sa));
  if (cached && cached.refreshAt > now) return cached.accessToken;

  const iat = Math.floor(now / 1000);
  const assertion = await new SignJWT({ scope: FCM_SCOPE })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: sa.private_key_id })
    .setIssuer(sa.client_email)
    .setAudience(sa.token_uri)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ASSERTION_SECONDS)
    .sign(await privateKeyOf(sa));
  const res = await fetcher(sa.token_uri, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: JWT_BEARER, assertion }).toString(),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`FCM token endpoint answered ${res.status}: ${text.slice(0, 200)}`);
  const body = JSON.parse(text) as { access_token?: unknown; expires_in?: unknown };
  if (typeof body.access_token !== 'string' || typeof body.expires_in !== 'number') throw new Error('FCM token endpoint: no access_token/expires_in');
  const margin = Math.min(300, body.expires_in / 2);
  tokens.set(cacheKey(sa), { accessToken: body.access_token, refreshAt: now + (body.expires_in - margin) * 1000 });
  return body.access_token;
}

/**
 * Sends `message` through FCM HTTP v1. Resolves with FCM's status whatever it
 * was; `gone` when the token is unregistered (404 / `UNREGISTERED`). A 401
 * (a revoked or early-expired access token) is retried once with a fresh token.
 */
export async function sendFcm(cfg: FcmConfig, message: FcmMessage, fetcher: typeof fetch = fetch): Promise<FcmResult> {
  const sa = cfg.serviceAccount;
  const url = `${cfg.apiUrl.replace(/\/+$/, '')}/v1/projects/${encodeURIComponent(sa.project_id)}/messages:send`;
  const send = async () =>
    fetcher(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${await fcmAccessToken(sa, fetcher)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message }),
    });
  let res = await send();
  if (res.status === 401) {
    await res.arrayBuffer().catch(() => undefined);
    tokens.delete(cacheKey(sa));
    res = await send();
  }
  const body = (await res.json().catch(() => ({}))) as { name?: unknown; error?: { details?: Array<{ errorCode?: unknown }> } };
  if (res.ok) return { status: res.status, gone: false, ...(typeof body.name === 'string' ? { name: body.name } : {}) };
  const errorCode = body.error?.details?.find((d) => typeof d.errorCode === 'string')?.errorCode as string | undefined;
  return { status: res.status, gone: res.status === 404 || errorCode === 'UNREGISTERED', ...(errorCode ? { errorCode } : {}) };
}
