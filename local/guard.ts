/**
 * Runs a command in its own process group and takes the whole group down
 * when told to (SIGTERM/SIGINT) or when the process that started it dies
 * (its stdin closes). `wrangler dev` starts workerd processes of its own;
 * without this, a killed test run or launcher would leave them holding the
 * ports.
 *
 *   node local/guard.ts <command> [args…]
 */
import { spawn } from 'node:child_process';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: node local/guard.ts <command> [args…]');
  process.exit(2);
}
const child = spawn(command, args, { detached: true, stdio: ['ignore', 'inherit', 'inherit'] });

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {
    process.exit(0);
  }
  setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
    process.exit(1);
  }, 5000).unref();
}

process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
