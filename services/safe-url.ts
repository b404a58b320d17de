/**
 * The rule for URLs the server itself will call on a user's behalf (Web Push
 * endpoints, webhooks): public `https` only. Without it, a user could make the
 * Worker POST to a private network, a cloud metadata service or itself.
 *
 * Plain `http` is allowed to loopback only where the deployment says so
 * (`WEBHOOK_ALLOW_HTTP_LOOPBACK`, set by the local stack, whose stand-ins
 * listen on 127.0.0.1).
 *
 * Only what the URL says is checked: a public name that resolves to a private
 * address is not caught here. On Workers that is covered by the platform
 * (outbound `fetch` cannot reach private networks); elsewhere, resolve first.
 */
import ipaddr from 'ipaddr.js';

export interface UrlRule {
  /** Allow `http:` (and `https:`) to 127.0.0.0/8, ::1 and `localhost`. */
  allowHttpLoopback: boolean;
}

/** Names that are never public, whatever they resolve to (RFC 6761 `localhost`, RFC 6762 `.local`, metadata hosts). */
const PRIVATE_NAME = /(^|\.)(localhost|local|internal|home\.arpa|localdomain)$/;

/** The longest URL accepted: push services' endpoints are well below it. */
const MAX_URL_LENGTH = 2048;

/**
 * Whether `url` is one the server may call: `undefined` if it is, otherwise
 * why not, as a sentence fit for a `validation_failed` message.
 */
export function checkPublicUrl(url: string, rule: UrlRule): string | undefined {
  if (url.length > MAX_URL_LENGTH) return `must be at most ${MAX_URL_LENGTH} characters`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute URL';
  }
  if (parsed.username || parsed.password) return 'must not carry credentials';
  // The WHATWG parser has already normalized the host: `0x7f.1`, `2130706433` and `[::ffff:7f00:1]` are IPs by now.
  const host = parsed.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  const loopback = isLoopback(host);
  if (parsed.protocol === 'http:') {
    if (!rule.allowHttpLoopback) return 'must use https';
    if (!loopback) return 'must use https (plain http is allowed to loopback only)';
    return undefined;
  }
  if (parsed.protocol !== 'https:') return 'must use https';
  if (loopback) return rule.allowHttpLoopback ? undefined : 'must not point at a loopback address';
  if (ipaddr.isValid(host)) {
    const range = ipaddr.process(host).range();
    // Anything but ordinary unicast: private, link-local (169.254.169.254 metadata included), CGNAT, multicast, reserved, NAT64…
    if (range !== 'unicast') return `must not point at a ${range} address`;
    return undefined;
  }
  if (!host.includes('.')) return 'must name a public host';
  if (PRIVATE_NAME.test(host)) return 'must name a public host';
  return undefined;
}

function isLoopback(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return ipaddr.isValid(host) && ipaddr.process(host).range() === 'loopback';
}

/** The deployment's rule: `WEBHOOK_ALLOW_HTTP_LOOPBACK` = "1" (the local stack) allows http to loopback; "" (production) does not. */
export function urlRuleOf(env: { WEBHOOK_ALLOW_HTTP_LOOPBACK?: string }): UrlRule {
  return { allowHttpLoopback: env.WEBHOOK_ALLOW_HTTP_LOOPBACK === '1' || env.WEBHOOK_ALLOW_HTTP_LOOPBACK === 'true' };
}
