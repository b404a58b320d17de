/**
 * `npm ci` installs exactly what package-lock.json names, and fails when a
 * platform's optional package is missing from it ("Missing: … from lock
 * file"). These checks keep the committed lockfile installable on every
 * platform wrangler supports, and in step with package.json.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../local/stack.ts';

interface LockEntry {
  version?: string;
  optionalDependencies?: Record<string, string>;
}
const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

describe('package-lock.json', () => {
  it('names every optional platform package of every package that has them (workerd, esbuild, …)', () => {
    const missing: string[] = [];
    for (const [where, entry] of Object.entries(lock.packages)) {
      for (const name of Object.keys(entry.optionalDependencies ?? {})) {
        // npm resolves a dependency in the nearest node_modules up the tree.
        const candidates = [];
        for (let dir = where; ; dir = dir.slice(0, dir.lastIndexOf('/node_modules/'))) {
          candidates.push(`${dir ? `${dir}/` : ''}node_modules/${name}`);
          if (!dir.includes('/node_modules/')) break;
        }
        candidates.push(`node_modules/${name}`);
        if (!candidates.some((c) => lock.packages[c])) missing.push(`${name} (for ${where || 'the root'})`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('has workerd for every platform wrangler runs on', () => {
    for (const platform of ['darwin-64', 'darwin-arm64', 'linux-64', 'linux-arm64', 'windows-64']) {
      expect(lock.packages[`node_modules/@cloudflare/workerd-${platform}`]?.version, platform).toBeTruthy();
    }
  });

  it('locks every dependency package.json declares', () => {
    const declared = { ...pkg.dependencies, ...pkg.devDependencies };
    const unlocked = Object.keys(declared).filter((name) => !lock.packages[`node_modules/${name}`]);
    expect(unlocked).toEqual([]);
  });
});
