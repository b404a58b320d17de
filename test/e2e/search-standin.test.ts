/**
 * The local stack's Algolia stand-in: running beside the Worker, with the
 * message index the Worker is configured for already set up by the adapter.
 */
import { inject, describe, expect, it } from 'vitest';
import { algoliasearch } from 'algoliasearch';

describe('the Algolia stand-in of the local stack', () => {
  const { algolia } = inject('stack');
  const url = new URL(algolia.url);
  const hosts = [{ url: url.hostname, port: Number(url.port), protocol: 'http' as const, accept: 'readWrite' as const }];

  it('holds the message index with the adapter settings', async () => {
    const client = algoliasearch(algolia.appId, algolia.apiKey, { hosts });
    const settings = await client.getSettings({ indexName: algolia.indexName });
    expect(settings).toMatchObject({ searchableAttributes: ['text'], customRanking: ['desc(createdAt)'], queryLanguages: ['zh', 'ja', 'en'] });
  });

  it('refuses the wrong key', async () => {
    const client = algoliasearch(algolia.appId, 'not-the-key', { hosts });
    await expect(client.listIndices()).rejects.toMatchObject({ status: 403 });
  });
});
