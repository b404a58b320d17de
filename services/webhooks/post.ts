/**
 * One signed delivery attempt. The URL rule (services/safe-url.ts) is
 * checked again here, not only at registration: a deployment whose rule
 * tightened, or a row written before it, never gets a request out. Redirects
 * are not followed (a redirect could point anywhere), the attempt times out,
 * and nothing of the response is kept but its status.
 */
import { checkPublicUrl, urlRuleOf } from '../safe-url.ts';
import { signedHeaders } from './sign.ts';

export type PostOutcome = { ok: true; status: number } | { ok: false; status?: number; error: string };

/** Longest error kept in a delivery log. */
export const ERROR_MAX = 200;

export interface SignedPost {
  url: string;
  /** Newest first; more than one during a rotation's overlap. */
  secrets: string[];
  /** `webhook-id`: the same for every attempt of one delivery, so receivers can drop repeats. */
  id: string;
  body: string;
  timeoutMs: number;
}

export async function postSigned(env: { WEBHOOK_ALLOW_HTTP_LOOPBACK?: string }, p: SignedPost, now = Date.now()): Promise<PostOutcome> {
  const refused = checkPublicUrl(p.url, urlRuleOf(env));
  if (refused) return { ok: false, error: `not sent: the URL ${refused}` };
  try {
    const res = await fetch(p.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'Beehive-Webhooks/1', ...signedHeaders(p.secrets, p.id, p.body, now) },
      body: p.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(p.timeoutMs),
    });
    await res.body?.cancel();
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
    return { ok: false, status: res.status, error: res.status >= 300 && res.status < 400 ? `HTTP ${res.status} (redirects are not followed)` : `HTTP ${res.status}` };
  } catch (err) {
    const name = (err as { name?: string }).name;
    const error = name === 'TimeoutError' || name === 'AbortError' ? `timed out after ${p.timeoutMs} ms` : String(err);
    return { ok: false, error: error.slice(0, ERROR_MAX) };
  }
}
