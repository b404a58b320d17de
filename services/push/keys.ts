/**
 * The key material of Web Push, as browsers hand it over (`PushSubscription.toJSON()`)
 * and as VAPID configures it: unpadded base64url of raw bytes.
 *
 * - a P-256 public key is the 65-byte uncompressed point (0x04 ‖ x ‖ y): a subscription's
 *   `p256dh` (RFC 8291 §3.2) and the VAPID public key (RFC 8292 §3.2);
 * - a subscription's `auth` secret is 16 bytes (RFC 8291 §3.2);
 * - a VAPID private key is the 32-byte scalar `d`.
 */
import { base64url, type JWK } from 'jose';

const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** The bytes of a base64url string (trailing `=` tolerated), or undefined if it is not base64url. */
export function fromBase64url(text: string): Uint8Array | undefined {
  if (!BASE64URL.test(text)) return undefined;
  try {
    return base64url.decode(text.replace(/=+$/, ''));
  } catch {
    return undefined;
  }
}

export function toBase64url(bytes: Uint8Array | ArrayBuffer): string {
  return base64url.encode(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
}

/** Why `text` is not a P-256 public key (65-byte uncompressed point on the curve), or undefined if it is one. */
export async function p256PublicKeyProblem(text: string): Promise<string | undefined> {
  const bytes = fromBase64url(text);
  if (!bytes) return 'must be base64url';
  if (bytes.length !== 65 || bytes[0] !== 0x04) return 'must be a 65-byte uncompressed P-256 point';
  try {
    // The import checks that the point lies on the curve.
    await crypto.subtle.importKey('raw', bytes, { name: 'ECDH', namedCurve: 'P-256' }, false, []);
    return undefined;
  } catch {
    return 'is not a point on the P-256 curve';
  }
}

/** Why `text` is not a 16-byte auth secret, or undefined if it is one. */
export function authSecretProblem(text: string): string | undefined {
  const bytes = fromBase64url(text);
  if (!bytes) return 'must be base64url';
  return bytes.length === 16 ? undefined : 'must be 16 bytes';
}

/** The JWK of a P-256 key from its raw public point and (optionally) its private scalar. */
export function p256Jwk(publicKey: Uint8Array, privateKey?: Uint8Array): JWK {
  return {
    kty: 'EC',
    crv: 'P-256',
    x: toBase64url(publicKey.subarray(1, 33)),
    y: toBase64url(publicKey.subarray(33, 65)),
    ...(privateKey ? { d: toBase64url(privateKey) } : {}),
  };
}
