/**
 * Builds the web client (web/) into the Worker's static assets: the app's
 * JavaScript and CSS under public/app/ (content-hashed names, code-split so
 * what a first visit does not need — the tus client — loads on first use),
 * public/index.html pointing at them, and the service worker at public/sw.js
 * (a worker's scope is its own path, so it must sit at the root). All of it
 * is gitignored; buildAssets() (local/assets.ts) runs this for npm start,
 * npm test and deploy.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { build, type BuildOptions, type Metafile } from 'esbuild';

export interface WebBuild {
  /** The files a first visit loads: the entry script, the chunks it imports statically, and the stylesheet (paths under `outDir`). */
  firstLoad: { js: string[]; css: string[] };
  /** Every file written, relative to `outDir`. */
  files: string[];
  /** The source modules in the first-load JS (to check what it pulls in). */
  firstLoadInputs: string[];
}

export async function buildWeb(root: string, outDir: string): Promise<WebBuild> {
  const appDir = path.join(outDir, 'app');
  await rm(appDir, { recursive: true, force: true });
  await mkdir(appDir, { recursive: true });
  const common: BuildOptions = {
    bundle: true,
    minify: true,
    sourcemap: true,
    target: ['chrome111', 'firefox114', 'safari16.4'],
    legalComments: 'linked',
    logLevel: 'warning',
    absWorkingDir: root,
  };
  const [app, sw, css] = await Promise.all([
    build({
      ...common,
      metafile: true,
      entryPoints: { main: 'web/main.tsx' },
      outdir: appDir,
      format: 'esm',
      splitting: true,
      entryNames: '[name]-[hash]',
      chunkNames: 'chunk-[hash]',
      jsx: 'automatic',
      jsxImportSource: 'preact',
    }),
    build({ ...common, metafile: true, entryPoints: ['web/sw.ts'], outfile: path.join(outDir, 'sw.js'), format: 'iife' }),
    // Its own entry, so the page fetches it beside the script rather than after it.
    build({ ...common, metafile: true, entryPoints: { main: 'web/styles.css' }, outdir: appDir, entryNames: '[name]-[hash]' }),
  ]);

  const rel = (p: string) => path.relative(outDir, path.resolve(root, p));
  const outputs = app.metafile.outputs;
  const entry = Object.keys(outputs).find((p) => outputs[p]!.entryPoint === 'web/main.tsx')!;
  const firstJs = staticClosure(outputs, entry);
  const cssFile = Object.keys(css.metafile.outputs).find((p) => p.endsWith('.css'))!;
  const html = (await readFile(path.join(root, 'web/index.html'), 'utf8')).replace('{{js}}', `/${rel(entry)}`).replace('{{css}}', `/${rel(cssFile)}`);
  await writeFile(path.join(outDir, 'index.html'), html);

  const files = [...Object.keys(outputs), ...Object.keys(sw.metafile.outputs), ...Object.keys(css.metafile.outputs)].map(rel);
  return {
    firstLoad: { js: firstJs.map(rel), css: [rel(cssFile)] },
    files: [...files, 'index.html'],
    firstLoadInputs: [...new Set(firstJs.flatMap((o) => Object.keys(outputs[o]!.inputs)))],
  };
}

/** An output and every chunk it imports statically (dynamic imports load later, on use). */
function staticClosure(outputs: Metafile['outputs'], start: string): string[] {
  const seen = new Set<string>();
  const visit = (p: string) => {
    if (seen.has(p)) return;
    seen.add(p);
    for (const imp of outputs[p]?.imports ?? []) if (imp.kind === 'import-statement' && !imp.external) visit(imp.path);
  };
  visit(start);
  return [...seen];
}
