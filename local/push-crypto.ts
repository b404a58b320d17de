/**
 * The receiving side of Web Push's crypto, as a user agent and a push service
 * do it, for the local push service (local/push.ts): RFC 8291 `aes128gcm`
 * decryption with the subscription's private key, and RFC 8292 VAPID checks.
 *
 * Written on node:crypto independently of the sender (services/push/), so
 * a test of one against the other proves the wire format, not a shared bug.
 */
import { createDecipheriv, createHmac, type ECDH } from 'node:crypto';
import { importJWK, jwtVerify } from 'jose';

/** A subscription's secrets, as the user agent holds them. */
export interface UaKeys {
  ecdh: ECDH;
  /** The 65-byte uncompressed public point (`p256dh`). */
  publicKey: Buffer;
  /** The 16-byte `auth` secret. */
  auth: Buffer;
}

const hmac = (key: Buffer, data: Buffer) => createHmac('sha256', key).update(data).digest();
const info = (label: string) => Buffer.from(`Content-Encoding: ${label}\0`, 'latin1');
const ONE = Buffer.from([1]);

/**
 * The plaintext of an `aes128gcm` push message body (RFC 8188 header, one record,
 * RFC 8291 key derivation), or a string saying why it cannot be decrypted.
 */
export function decryptPush(body: Buffer, ua: UaKeys): Buffer | string {
  if (body.length < 21 + 65 + 17) return 'body too short for an aes128gcm header and record';
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20]!;
  if (idlen !== 65) return `keyid must be the 65-byte sender key (RFC 8291 §4), got ${idlen} bytes`;
  if (rs < 18) return `record size ${rs} is below the minimum of 18`;
  const senderKey = body.subarray(21, 86);
  const record = body.subarray(86);
  // RFC 8291 §4: a push message is a single record.
  if (record.length > rs) return 'more than one record';
  if (record.length < 17) return 'record too short';

  let ecdhSecret: Buffer;
  try {
    ecdhSecret = ua.ecdh.computeSecret(senderKey);
  } catch {
    return 'the sender key is not a P-256 point';
  }
  // RFC 8291 §3.3–3.4: IKM from the ECDH secret and the auth secret, then RFC 8188 §2.2 CEK and nonce.
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0', 'latin1'), ua.publicKey, senderKey, ONE]);
  const ikm = hmac(hmac(ua.auth, ecdhSecret), keyInfo);
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, Buffer.concat([info('aes128gcm'), ONE])).subarray(0, 16);
  const nonce = hmac(prk, Buffer.concat([info('nonce'), ONE])).subarray(0, 12); // record 0: XOR with SEQ 0 is the nonce itself

  let padded: Buffer;
  try {
    const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
    decipher.setAuthTag(record.subarray(record.length - 16));
    padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
  } catch {
    return 'authentication failed: wrong keys or corrupted ciphertext';
  }
  // Padding: the delimiter (0x02 for the last record), then zeros.
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (end < 0 || padded[end] !== 0x02) return 'missing last-record padding delimiter';
  return padded.subarray(0, end);
}

/** `vapid t=<jwt>, k=<key>` → its parameters, or undefined for any other scheme. */
function parseVapid(header: string | undefined): { t: string; k: string } | undefined {
  const m = header?.match(/^vapid\s+(.*)$/i);
  if (!m) return undefined;
  const params = new Map<string, string>();
  for (const part of m[1]!.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) params.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const t = params.get('t');
  const k = params.get('k');
  return t && k ? { t, k } : undefined;
}

const MAX_EXP_SECONDS = 24 * 60 * 60;

/**
 * Checks a push request's VAPID authorization (RFC 8292): an ES256 JWT signed by
 * the key in `k`, `aud` = the push resource's origin, `exp` in the future but
 * at most 24 h ahead, a `sub`. Returns the public key (base64url) or why it failed.
 */
export async function verifyVapid(header: string | undefined, origin: string, nowMs = Date.now()): Promise<{ key: string } | { error: string }> {
  const vapid = parseVapid(header);
  if (!vapid) return { error: 'missing or malformed `Authorization: vapid t=…, k=…`' };
  const point = Buffer.from(vapid.k, 'base64url');
  if (point.length !== 65 || point[0] !== 0x04) return { error: 'k is not a 65-byte uncompressed P-256 point' };
  try {
    const key = await importJWK(
      { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') },
      'ES256',
    );
    const { payload } = await jwtVerify(vapid.t, key, {
      algorithms: ['ES256'],
      audience: origin,
      requiredClaims: ['aud', 'exp', 'sub'],
      currentDate: new Date(nowMs),
    });
    if (payload.exp! - nowMs / 1000 > MAX_EXP_SECONDS) return { error: 'exp is more than 24 hours ahead' };
    if (typeof payload.sub !== 'string' || !payload.sub) return { error: 'sub is missing' };
    return { key: point.toString('base64url') };
  } catch (err) {
    return { error: `VAPID JWT rejected: ${err instanceof Error ? err.message : String(err)}` };
  }
}
