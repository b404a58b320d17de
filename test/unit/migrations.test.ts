/**
 * Durable Object migrations are append-only: a shipped entry must never
 * change, or objects that already ran it would differ from new ones. Each
 * entry's fingerprint (SHA-256, first 16 hex digits) is pinned here; a new
 * migration appends its fingerprint, and an edited one fails this test.
 */
import { describe, expect, it } from 'vitest';
import { MIGRATIONS as CONVERSATION } from '../../durable-objects/conversation/schema.ts';
import { MIGRATIONS as USER } from '../../durable-objects/user/schema.ts';
import { hex } from '../../lib/ids.ts';

const fingerprint = async (sql: string) => hex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(sql))).slice(0, 16);

describe('Durable Object migrations', () => {
  it('ConversationDO: shipped entries are unchanged', async () => {
    expect(await Promise.all(CONVERSATION.map(fingerprint))).toEqual([
      '0046253db527f836', // 1: the first messaging core
      'efec1b0f64aa9da8', // 2: the stream, counters, the typed outbox
      'ed9a2264e62c91a9', // 3: outgoing webhooks and their delivery log
    ]);
  });

  it('UserDO: shipped entries are unchanged', async () => {
    expect(await Promise.all(USER.map(fingerprint))).toEqual([
      '656d0678043fd903', // 1: the first messaging core
      'f2d3231d5d5f8a2e', // 2: counters, mute, live views
      '053624c6a07d4767', // 3: offline push, heartbeat time
      'fe896122e9b83f29', // 4: a bot's webhook, its queue and delivery log
    ]);
  });
});
