/**
 * A local user's own values for the Worker's variables, without editing
 * wrangler.toml: `beehive.vars`, then `.dev.vars` (dotenv syntax, both at
 * the repo root and gitignored), then `BEEHIVE_VAR_<NAME>` environment
 * variables; a later source wins. `npm start` merges them over the stack's
 * own values into the env file it gives `wrangler dev`.
 *
 *   echo 'ALLOWED_ORIGINS=https://my-app.test' > beehive.vars
 *   BEEHIVE_VAR_SEND_BURST=50 npm start
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseEnv } from 'node:util';

export const VAR_FILES = ['beehive.vars', '.dev.vars'] as const;
const PREFIX = 'BEEHIVE_VAR_';

/** The overrides found, in the order they apply. */
export async function userVars(root: string, env: NodeJS.ProcessEnv): Promise<Record<string, string>> {
  const vars: Record<string, string> = {};
  for (const file of VAR_FILES) {
    let text: string;
    try {
      text = await readFile(path.join(root, file), 'utf8');
    } catch {
      continue; // no such file
    }
    for (const [k, v] of Object.entries(parseEnv(text))) if (v !== undefined) vars[k] = v;
  }
  for (const [k, v] of Object.entries(env)) if (k.startsWith(PREFIX) && k.length > PREFIX.length && v !== undefined) vars[k.slice(PREFIX.length)] = v;
  return vars;
}
