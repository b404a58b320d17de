/**
 * `npm run push:vapid-keys`: a fresh VAPID key pair for Web Push (RFC 8292),
 * printed with the commands that install it as the Worker's secrets
 * (docs/deploy.md). Generate it once per deployment and keep it: every
 * browser subscription is bound to the public key it was made with.
 */
import { generateVapidKeys } from '../services/push/vapid.ts';

const { publicKey, privateKey } = await generateVapidKeys();
console.log(`VAPID_PUBLIC_KEY=${publicKey}
VAPID_PRIVATE_KEY=${privateKey}

Install them:
  echo '${publicKey}' | npx wrangler secret put VAPID_PUBLIC_KEY
  echo '${privateKey}' | npx wrangler secret put VAPID_PRIVATE_KEY
and set VAPID_SUBJECT in wrangler.toml to a mailto: or https: contact.`);
