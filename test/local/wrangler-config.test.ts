/**
 * wrangler.toml's environments repeat the top level (vars, secrets, bindings
 * are not inherited by `[env.*]`): this keeps them from drifting apart as
 * vars are added, and keeps the Durable Object migrations append-only in
 * shape (every class bound is created by a migration).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../local/stack.ts';

interface Section {
  assets?: { directory?: string; not_found_handling?: string; run_worker_first?: string[] };
  vars?: Record<string, string>;
  secrets?: { required?: string[] };
  durable_objects?: { bindings?: Array<{ name: string; class_name: string }> };
  r2_buckets?: Array<{ binding: string }>;
  analytics_engine_datasets?: Array<{ binding: string }>;
}
const config = parse(readFileSync(path.join(ROOT, 'wrangler.toml'), 'utf8')) as Section & {
  env?: Record<string, Section>;
  migrations?: Array<{ tag: string; new_sqlite_classes?: string[] }>;
};
const envs = Object.entries(config.env ?? {});
const keys = (s: Section) => ({
  vars: Object.keys(s.vars ?? {}).sort(),
  secrets: [...(s.secrets?.required ?? [])].sort(),
  durableObjects: (s.durable_objects?.bindings ?? []).map((b) => `${b.name}:${b.class_name}`).sort(),
  r2: (s.r2_buckets ?? []).map((b) => b.binding).sort(),
  analytics: (s.analytics_engine_datasets ?? []).map((b) => b.binding).sort(),
});

describe('wrangler.toml', () => {
  it('has staging and production environments', () => {
    expect(envs.map(([name]) => name).sort()).toEqual(['production', 'staging']);
  });

  it.each(envs)('[env.%s] declares every var, secret and binding the top level does', (_name, section) => {
    expect(keys(section)).toEqual(keys(config));
  });

  it('serves the web client as a single-page app, the Worker first on its own paths, in every environment', () => {
    expect(config.assets?.not_found_handling).toBe('single-page-application');
    expect(config.assets?.run_worker_first).toEqual(expect.arrayContaining(['/api/*', '/health', '/ready', '/openapi.json', '/asyncapi.json', '/internal/*', '/docs']));
    // [assets] is inheritable: an environment that declared its own would have to repeat all of it.
    for (const [, section] of envs) expect(section.assets ?? config.assets).toEqual(config.assets);
  });

  it('creates every Durable Object class it binds, in its migrations', () => {
    const created = new Set((config.migrations ?? []).flatMap((m) => m.new_sqlite_classes ?? []));
    for (const b of config.durable_objects?.bindings ?? []) expect(created.has(b.class_name), b.class_name).toBe(true);
    const tags = (config.migrations ?? []).map((m) => m.tag);
    expect(new Set(tags).size).toBe(tags.length);
  });
});
