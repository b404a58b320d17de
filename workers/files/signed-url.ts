/**
 * Signed content URLs (`GET /files/:id/url`): `/files/:id/content?exp=&uid=&sig=`
 * with an HMAC-SHA256 over file, user and expiry, so an `<img>` can fetch the
 * bytes without a header. The user is in the URL so that the content route
 * checks the read rule again: a recall or deletion takes effect on URLs
 * already handed out. The key is derived from JWT_SECRET for this one use.
 */
import { base64url } from 'jose';

const encoder = new TextEncoder();

async function urlKey(env: Env): Promise<CryptoKey> {
  const root = await crypto.subtle.importKey('raw', encoder.encode(env.JWT_SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const derived = await crypto.subtle.sign('HMAC', root, encoder.encode('beehive/file-url/v1'));
  return crypto.subtle.importKey('raw', derived, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

const message = (fileId: string, userId: string, exp: number) => encoder.encode(`${fileId}.${userId}.${exp}`);

export async function signContentUrl(env: Env, fileId: string, userId: string, exp: number): Promise<string> {
  const sig = new Uint8Array(await crypto.subtle.sign('HMAC', await urlKey(env), message(fileId, userId, exp)));
  return `exp=${exp}&uid=${encodeURIComponent(userId)}&sig=${base64url.encode(sig)}`;
}

/** The user a signed URL was issued to, if its signature holds and it has not expired. */
export async function verifyContentUrl(env: Env, fileId: string, q: { exp?: string; uid?: string; sig?: string }, now = Date.now()): Promise<string | undefined> {
  const exp = Number(q.exp);
  if (!q.uid || !q.sig || !Number.isSafeInteger(exp) || exp * 1000 < now || !/^[\w-]{43}$/.test(q.sig)) return undefined;
  const sig = base64url.decode(q.sig);
  const ok = await crypto.subtle.verify('HMAC', await urlKey(env), sig, message(fileId, q.uid, exp));
  return ok ? q.uid : undefined;
}
