/**
 * VAPID (RFC 8292): how this server identifies itself to push services. Each
 * push carries `Authorization: vapid t=<JWT>, k=<public key>`, the JWT signed
 * ES256 with the server's P-256 key, `aud` = the push service's origin,
 * `exp` at most 24 h ahead and `sub` a contact (`mailto:` or `https:`).
 *
 * Keys are configured as base64url: the public key is the 65-byte point that
 * browsers take as `applicationServerKey`, the private key the 32-byte scalar.
 * `npm run push:vapid-keys` prints a fresh pair (docs/deploy.md).
 */
import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type CryptoKey } from 'jose';
import { fromBase64url, p256Jwk, p256PublicKeyProblem, toBase64url } from './keys.ts';

export interface VapidKeys {
  /** base64url of the 65-byte uncompressed P-256 point. */
  publicKey: string;
  /** base64url of the 32-byte private scalar. */
  privateKey: string;
  /** The operator's contact for push services: `mailto:…` or `https://…`. */
  subject: string;
}

/** The deployment's VAPID keys (`VAPID_PUBLIC_KEY`, `VAPID_PRIVATE_KEY`, `VAPID_SUBJECT`), or undefined where Web Push is not configured. */
export function vapidKeysOf(env: { VAPID_PUBLIC_KEY?: string; VAPID_PRIVATE_KEY?: string; VAPID_SUBJECT?: string }): VapidKeys | undefined {
  if (!env.VAPID_PUBLIC_KEY || !env.VAPID_PRIVATE_KEY || !env.VAPID_SUBJECT) return undefined;
  return { publicKey: env.VAPID_PUBLIC_KEY, privateKey: env.VAPID_PRIVATE_KEY, subject: env.VAPID_SUBJECT };
}

/** How long a VAPID JWT is valid. RFC 8292 §2 caps it at 24 h; 12 h leaves room for clock skew. */
export const VAPID_JWT_SECONDS = 12 * 60 * 60;

/** A fresh VAPID key pair, base64url-encoded as `VAPID_PUBLIC_KEY` / `VAPID_PRIVATE_KEY` expect. */
export async function generateVapidKeys(): Promise<{ publicKey: string; privateKey: string }> {
  const pair = await generateKeyPair('ES256', { extractable: true });
  const { x, y, d } = await exportJWK(pair.privateKey);
  const point = new Uint8Array(65);
  point[0] = 0x04;
  point.set(fromBase64url(x!)!, 1);
  point.set(fromBase64url(y!)!, 33);
  return { publicKey: toBase64url(point), privateKey: d! };
}

/**
 * Why `keys` cannot sign VAPID, or undefined if they can: both keys well-formed,
 * the private key the public key's own (checked by signing and verifying), a
 * `mailto:` or `https:` subject.
 */
export async function vapidKeysProblem(keys: VapidKeys): Promise<string | undefined> {
  if (!/^(mailto:.+|https:\/\/.+)$/.test(keys.subject)) return 'VAPID subject must be a mailto: or https: URL';
  const publicProblem = await p256PublicKeyProblem(keys.publicKey);
  if (publicProblem) return `VAPID public key ${publicProblem}`;
  const d = fromBase64url(keys.privateKey);
  if (!d || d.length !== 32) return 'VAPID private key must be a 32-byte base64url scalar';
  try {
    const pub = fromBase64url(keys.publicKey)!;
    const probe = await new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).sign(await importJWK(p256Jwk(pub, d), 'ES256'));
    await jwtVerify(probe, await importJWK(p256Jwk(pub), 'ES256'), { algorithms: ['ES256'] });
    return undefined;
  } catch {
    return 'VAPID private key does not belong to the public key';
  }
}

// Importing a key costs more than signing with it; an isolate keeps the few it uses. Only settled
// keys are cached: workerd must not see one request await a promise that another request started.
const signingKeys = new Map<string, CryptoKey>();

async function signingKey(keys: VapidKeys): Promise<CryptoKey> {
  const cacheKey = `${keys.publicKey}.${keys.privateKey}`;
  const cached = signingKeys.get(cacheKey);
  if (cached) return cached;
  const pub = fromBase64url(keys.publicKey);
  const d = fromBase64url(keys.privateKey);
  if (!pub || pub.length !== 65 || !d || d.length !== 32) throw new TypeError('malformed VAPID keys (see vapidKeysProblem)');
  const key = (await importJWK(p256Jwk(pub, d), 'ES256')) as CryptoKey;
  signingKeys.set(cacheKey, key);
  return key;
}

/** The `Authorization` header value for a push to `endpoint` (RFC 8292 §3). */
export async function vapidAuthorization(keys: VapidKeys, endpoint: string, now = Date.now()): Promise<string> {
  const jwt = await new SignJWT({ sub: keys.subject })
    .setProtectedHeader({ typ: 'JWT', alg: 'ES256' })
    .setAudience(new URL(endpoint).origin)
    .setExpirationTime(Math.floor(now / 1000) + VAPID_JWT_SECONDS)
    .sign(await signingKey(keys));
  return `vapid t=${jwt}, k=${keys.publicKey}`;
}
