/**
 * Starts the bench's own local stack in a child process (stack-host.ts) and
 * stops it again, making sure nothing it spawned is left running.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { StackInfo } from './context.ts';
import { alive, descendants } from './procs.ts';
import { sleep, withTimeout } from './timing.ts';

export interface StackHandle {
  api: string;
  info: StackInfo;
  /** Stops the stack; returns the processes that had to be killed by force afterwards (should be none). */
  stop(): Promise<string[]>;
}

const HOST = path.join(path.dirname(fileURLToPath(import.meta.url)), 'stack-host.ts');

export async function startStack(portBase: number, stateDir: string, extraVars: Record<string, string>, debug: boolean): Promise<StackHandle> {
  const child = spawn(process.execPath, [HOST, String(portBase), stateDir, JSON.stringify(extraVars)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...(debug ? { BEEHIVE_LOG: 'debug' } : {}) },
  });
  const tail: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    if (debug) process.stderr.write(`[stack] ${line}\n`);
    tail.push(line);
    if (tail.length > 40) tail.shift();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let known: number[] = [];

  const stop = async (): Promise<string[]> => {
    known = [...new Set([...known, ...descendants(child.pid!).map((p) => p.pid)])];
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin!.end();
      child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(20_000).then(() => false)]);
      if (!done) child.kill('SIGKILL');
    }
    // The guard stops wrangler's process group; give it a moment, then make sure.
    const killed: string[] = [];
    for (let i = 0; i < 40 && known.some(alive); i++) await sleep(250);
    for (const pid of known.filter(alive)) {
      killed.push(String(pid));
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    return killed;
  };

  const lines = createInterface({ input: child.stdout! });
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    lines.once('line', (line) => resolve(JSON.parse(line) as Record<string, unknown>));
    void exited.then((code) => reject(new Error(`the stack exited (${code}) before it was ready:\n${tail.join('\n')}`)));
  });
  try {
    const info = await withTimeout(ready, 120_000, 'stack start');
    known = descendants(child.pid!).map((p) => p.pid);
    return {
      api: info.api as string,
      info: { workerPid: info.workerPid as number, hostPid: child.pid!, inspectorPort: info.inspectorPort as number, databaseUrl: info.databaseUrl as string, neonProxy: info.neonProxy as string },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
