/**
 * Four test projects:
 * - `local`: the offline stand-ins, driven by the official clients (Node), and Node-side checks of the client and web build;
 * - `workers`: Worker and Durable Object code inside workerd (the Workers Vitest integration);
 * - `e2e`: the running local stack (wrangler dev + stand-ins) through real HTTP and WebSocket clients;
 * - `browser`: the web client in real Chromium (playwright-core) against a stack of its own; it runs after the others
 *   (groupOrder), so Chromium does not compete with them for the machine.
 */
import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Logs of passing tests are noise (the Worker logs every request); failures keep theirs.
    silent: 'passed-only',
    projects: [
      {
        test: {
          name: 'local',
          include: ['test/local/**/*.test.ts'],
          environment: 'node',
          testTimeout: 30_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              // Unit tests reach no service; these only satisfy the Env shape.
              bindings: {
                JWT_SECRET: 'unit-test-secret-unit-test-secret-32',
                DATABASE_URL: 'postgres://unused@127.0.0.1:1/unused',
                UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:1',
                UPSTASH_REDIS_REST_TOKEN: 'unused',
                QSTASH_TOKEN: 'unused',
                QSTASH_CURRENT_SIGNING_KEY: 'unused',
                QSTASH_NEXT_SIGNING_KEY: 'unused',
                EMAIL_API_KEY: 'unused',
                VAPID_PUBLIC_KEY: 'BNu6G72uXE9kN_ozRusfR51tKOSHGMMgzp-M0kTxL0DBp1RNUhPo_2mU-Z6n-DDmbBRQWNzQL8Y7kkCnmc9taDg',
                VAPID_PRIVATE_KEY: 'l99zXbpU6hWlVkbLggIHUimxrUe-YdDp9lYOBJLrilc',
                FCM_SERVICE_ACCOUNT: '',
                ALGOLIA_APP_ID: 'unused',
                ALGOLIA_API_KEY: 'unused',
              },
            },
          }),
        ],
        test: {
          name: 'workers',
          include: ['test/unit/**/*.test.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/setup/stack.ts'],
          // One shared stack: files run one at a time, since the durability tests take Postgres down and restart the Worker.
          fileParallelism: false,
          testTimeout: 30_000,
          hookTimeout: 120_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/setup/browser-stack.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
