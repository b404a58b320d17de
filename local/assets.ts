/**
 * Fills the Worker's static assets (`[assets]` in wrangler.toml, the
 * `public/` folder) with what is not committed: the API reference page's
 * swagger-ui files, copied from the `swagger-ui-dist` package into
 * `public/docs/vendor/`, so `/docs` works with no network; and the web
 * client, built from web/ (local/web-build.ts). Both are gitignored.
 * `npm start`, `npm test` and `npm run deploy` run it; by hand:
 *
 *   node local/assets.ts
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWeb, type WebBuild } from './web-build.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ASSETS_DIR = path.join(ROOT, 'public');
/** What /docs loads (workers/openapi.ts names the same files), and the licence that travels with them. */
const DOCS_FILES = ['swagger-ui-bundle.js', 'swagger-ui.css', 'favicon-32x32.png', 'LICENSE', 'NOTICE'];

export async function buildAssets(): Promise<WebBuild> {
  const dist = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const out = path.join(ASSETS_DIR, 'docs', 'vendor');
  await mkdir(out, { recursive: true });
  const [web] = await Promise.all([buildWeb(ROOT, ASSETS_DIR), ...DOCS_FILES.map((f) => copyFile(path.join(dist, f), path.join(out, f)))]);
  return web;
}

if (import.meta.url === `file://${process.argv[1]}`) await buildAssets();
