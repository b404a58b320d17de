/**
 * The client package and the web app compile in DOM-only projects (lib ES2023 + DOM, `types: []`): no
 * Node or Workers types leak in through the protocol/ types they share with the server.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../local/stack.ts';

function tsc(project: string): { status: number | null; output: string } {
  const r = spawnSync(path.join(ROOT, 'node_modules/.bin/tsc'), ['-p', project, '--pretty', 'false'], { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('DOM-only type checks', () => {
  it.each(['client/tsconfig.json', 'web/tsconfig.json', 'web/tsconfig.sw.json'])('%s compiles with no Node or Workers types', (project) => {
    const r = tsc(project);
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });

  it('the client project really is DOM-only: a Node global fails to compile there', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const dir = await mkdtemp(path.join(ROOT, 'client', '.probe-'));
    try {
      await writeFile(path.join(dir, 'probe.ts'), "import '../index.ts';\nexport const b = Buffer.from('x');\n");
      await writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../tsconfig.json', files: ['probe.ts'] }));
      const r = tsc(path.relative(ROOT, path.join(dir, 'tsconfig.json')));
      expect(r.status).not.toBe(0);
      expect(r.output).toContain("Cannot find name 'Buffer'");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
