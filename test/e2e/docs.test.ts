/** /docs renders from the Worker's own assets: every file the page loads comes from this origin, none from a CDN. */
import { describe, expect, it } from 'vitest';
import { stack } from './client.ts';

describe('the API reference page', () => {
  it('loads swagger-ui from the Worker’s assets, and points it at /openapi.json', async () => {
    const page = await fetch(`${stack.api}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThanOrEqual(3);
    expect(refs.filter((r) => !r.startsWith('/'))).toEqual([]); // nothing from another origin
    expect(html).toContain("url: '/openapi.json'");
    expect(html).toContain('validatorUrl: null');
    for (const ref of refs) {
      const res = await fetch(`${stack.api}${ref}`);
      expect({ ref, status: res.status }).toEqual({ ref, status: 200 });
      if (ref.endsWith('.js')) expect(res.headers.get('content-type')).toMatch(/javascript/);
      if (ref.endsWith('.css')) expect(res.headers.get('content-type')).toMatch(/text\/css/);
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(100);
    }
  });

  it('/openapi.json names this deployment as its server', async () => {
    const doc = (await (await fetch(`${stack.api}/openapi.json`)).json()) as { servers: Array<{ url: string }> };
    expect(doc.servers[0]!.url).toBe(new URL(stack.api).origin);
  });
});
