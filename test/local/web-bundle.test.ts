/**
 * The web client's build: what a first visit downloads stays within the budget (≤ 100 KiB of gzipped
 * JavaScript), holds neither zod (the schemas stay on the server) nor the tus client (loaded on the
 * first upload), and index.html names the files that were built.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../local/stack.ts';
import { buildWeb, type WebBuild } from '../../local/web-build.ts';

const BUDGET_BYTES = 100 * 1024;
let out: string;
let built: WebBuild;

beforeAll(async () => {
  out = await mkdtemp(path.join(os.tmpdir(), 'beehive-web-'));
  built = await buildWeb(ROOT, out);
});
afterAll(() => rm(out, { recursive: true, force: true }));

const gzipped = async (file: string) => gzipSync(await readFile(path.join(out, file)), { level: 9 }).length;

describe('web client build', () => {
  it(`first-load JavaScript is at most ${BUDGET_BYTES / 1024} KiB gzipped`, async () => {
    const sizes = await Promise.all(built.firstLoad.js.map(gzipped));
    const total = sizes.reduce((a, b) => a + b, 0);
    console.log(`first-load JS: ${built.firstLoad.js.map((f, i) => `${f} ${sizes[i]} B`).join(', ')}; total ${total} B gzipped`);
    expect(total).toBeGreaterThan(5 * 1024); // it did build something
    expect(total).toBeLessThanOrEqual(BUDGET_BYTES);
  });

  it('leaves zod and the tus client out of the first load; tus is a chunk of its own', () => {
    expect(built.firstLoadInputs.some((i) => i.includes('node_modules/zod'))).toBe(false);
    expect(built.firstLoadInputs.some((i) => i.includes('node_modules/@hono/zod-openapi'))).toBe(false);
    expect(built.firstLoadInputs.some((i) => i.includes('node_modules/tus-js-client'))).toBe(false);
    expect(built.firstLoadInputs.some((i) => i.includes('node_modules/preact'))).toBe(true);
    const lazy = built.files.filter((f) => f.endsWith('.js') && !built.firstLoad.js.includes(f) && f.startsWith('app/'));
    expect(lazy.length).toBeGreaterThan(0);
  });

  it('index.html loads the built entry and stylesheet, from the origin itself', async () => {
    const html = await readFile(path.join(out, 'index.html'), 'utf8');
    expect(html).toContain(`src="/${built.firstLoad.js[0]}"`);
    expect(html).toContain(`href="/${built.firstLoad.css[0]}"`);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(built.files).toContain('sw.js');
  });
});
