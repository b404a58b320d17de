/**
 * One stack per state dir: `npm start` takes `<stateDir>/start.lock` (holding
 * its pid) before it opens anything in there, so a second `npm start` beside
 * a running one stops at once with one clear line instead of failing half
 * way with PGlite's data dir open twice. A lock whose pid is gone (a killed
 * launcher) is stale and taken over.
 */
import { readFileSync, rmSync } from 'node:fs';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';

export type LockResult = { ok: true; release(): void } | { ok: false; pid: number; file: string };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

export async function lockStateDir(stateDir: string): Promise<LockResult> {
  await mkdir(stateDir, { recursive: true });
  const file = path.join(stateDir, 'start.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(file, 'wx'); // atomic: exactly one of two racing starts creates it
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      // Synchronous, so it can run in an 'exit' handler; only our own lock is removed.
      const release = () => {
        try {
          if (readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file, { force: true });
        } catch {
          /* already gone */
        }
      };
      return { ok: true, release };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) return { ok: false, pid, file };
    await rm(file, { force: true }); // stale: its process is gone (or the file is garbage)
  }
  throw new Error(`could not take ${file}`);
}
