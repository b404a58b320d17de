/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): a secret is
 * `whsec_` + base64 of random bytes; a delivery carries `webhook-id`,
 * `webhook-timestamp` (seconds) and `webhook-signature`, a space-separated
 * list of `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per secret
 * in force — two during the overlap after a rotation, so receivers can move
 * to the new secret without missing a delivery.
 *
 * The `standardwebhooks` package signs (pure JS, runs in workerd), so what we
 * send is exactly what its `verify` — the receivers' library — checks.
 */
import { Webhook } from 'standardwebhooks';

export const SECRET_PREFIX = 'whsec_';
const SECRET_BYTES = 24;

/** A new signing secret: `whsec_` + base64 of 24 random bytes (no padding at this length). */
export function newWebhookSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(SECRET_BYTES));
  return SECRET_PREFIX + btoa(String.fromCharCode(...bytes));
}

/** The three Standard Webhooks headers for one attempt, signed with every secret in `secrets` (newest first). */
export function signedHeaders(secrets: string[], id: string, body: string, now = Date.now()): Record<string, string> {
  const at = new Date(now);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(now / 1000)),
    'webhook-signature': secrets.map((s) => new Webhook(s).sign(id, at, body)).join(' '),
  };
}
