/** Upstash QStash: publishing async jobs, and verifying the deliveries that call us back. */
import { Client, Receiver } from '@upstash/qstash';

export function qstashClient(env: Env): Client {
  return new Client({ token: env.QSTASH_TOKEN, baseUrl: env.QSTASH_URL });
}

export function qstashReceiver(env: Env): Receiver {
  return new Receiver({
    currentSigningKey: env.QSTASH_CURRENT_SIGNING_KEY,
    nextSigningKey: env.QSTASH_NEXT_SIGNING_KEY,
  });
}
