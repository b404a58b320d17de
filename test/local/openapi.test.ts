/**
 * The OpenAPI document, generated from the routes' zod schemas, lints clean
 * with Redocly's recommended rules (redocly.yaml; deliberate exceptions with
 * their reasons in .redocly.lint-ignore.yaml) and carries what clients
 * generate code from: servers, bearer security, operation ids, enumerated
 * error codes, Retry-After on 429, date-time formats.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../local/stack.ts';
import { ERROR_STATUS } from '../../protocol/errors.ts';

const DOC_FILE = path.join(ROOT, '.beehive', 'openapi.json');
let doc: any;

/** The Worker's Hono app, seen from Node: only `request` is used (its Worker types belong to the Worker's tsconfig). */
interface App {
  request(url: string, init: RequestInit, env: unknown, ctx: unknown): Promise<Response>;
}

beforeAll(async () => {
  const { default: app } = (await import(path.join(ROOT, 'workers/app.ts'))) as { default: App };
  // Serving the document touches no binding; the context only needs waitUntil.
  const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} };
  const res = await app.request('https://beehive.example/openapi.json', {}, { PUBLIC_URL: 'https://beehive.example' }, ctx);
  expect(res.status).toBe(200);
  doc = await res.json();
  await mkdir(path.dirname(DOC_FILE), { recursive: true });
  await writeFile(DOC_FILE, JSON.stringify(doc, null, 2));
});

const operations = () =>
  Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([p, item]) => Object.entries(item).map(([method, op]) => ({ p, method, op })));

describe('the OpenAPI document', () => {
  it('lints clean with Redocly’s recommended rules', () => {
    const lint = spawnSync(path.join(ROOT, 'node_modules/.bin/node'), [path.join(ROOT, 'node_modules/@redocly/cli/bin/cli.js'), 'lint', DOC_FILE, '--format=json'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    });
    const report = JSON.parse(lint.stdout) as { totals: { errors: number; warnings: number }; problems: Array<{ ruleId: string; message: string; location: Array<{ pointer: string }> }> };
    expect(report.problems.map((p) => `${p.ruleId} ${p.location[0]?.pointer}: ${p.message}`)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    expect(lint.status).toBe(0);
  });

  it('names its server, a bearer scheme, and security: [] on exactly the public operations', () => {
    expect(doc.servers).toEqual([expect.objectContaining({ url: 'https://beehive.example' })]);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    const publicOps = operations().filter(({ op }) => Array.isArray(op.security) && op.security.length === 0).map(({ op }) => op.operationId).sort();
    expect(publicOps).toEqual(['getVapidPublicKey', 'health', 'login', 'ready', 'refreshTokens', 'register', 'resetPassword', 'sendCode']);
  });

  it('gives every operation a unique operationId', () => {
    const ids = operations().map(({ op }) => op.operationId);
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('enumerates the error codes of each status, and sends Retry-After with every 429', () => {
    expect(doc.components.schemas.Error409.properties.error.properties.code.enum).toEqual(
      Object.entries(ERROR_STATUS).filter(([, s]) => s === 409).map(([c]) => c),
    );
    const limited = operations().filter(({ op }) => op.responses['429']);
    expect(limited.length).toBeGreaterThan(0);
    for (const { op } of limited) expect(op.responses['429'].headers['Retry-After'].schema.type).toBe('integer');
  });

  it('marks times as date-time and ids as uuid', () => {
    expect(doc.components.schemas.User.properties.createdAt).toMatchObject({ type: 'string', format: 'date-time' });
    expect(doc.components.schemas.User.properties.id).toMatchObject({ type: 'string', format: 'uuid' });
    expect(doc.components.schemas.FriendRequest.properties.expiresAt.format).toBe('date-time');
  });
});
