/** The JSON file a stand-in keeps its state in across restarts. */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface StateFile {
  /** The saved state, or undefined when there is none yet. */
  load(): Promise<unknown>;
  /**
   * Writes the state as `snapshot()` gives it, atomically (temp file + rename).
   * Writes are coalesced: at most one runs and one waits, and the waiting one
   * takes its snapshot when it starts, so the promise returned covers every
   * change made before the call. Failures are logged, not thrown.
   */
  save(): Promise<void>;
}

export function stateFile(file: string, snapshot: () => unknown, onError: (error: unknown) => void): StateFile {
  let saving: Promise<void> = Promise.resolve();
  let queued = false;
  return {
    async load() {
      await mkdir(path.dirname(path.resolve(file)), { recursive: true });
      try {
        return JSON.parse(await readFile(file, 'utf8'));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new Error(`cannot load state ${file}`, { cause: error });
      }
    },
    save() {
      if (queued) return saving;
      queued = true;
      saving = saving.then(async () => {
        queued = false;
        const tmp = `${file}.${process.pid}.tmp`;
        await writeFile(tmp, JSON.stringify(snapshot()));
        await rename(tmp, file);
      }).catch(onError);
      return saving;
    },
  };
}
