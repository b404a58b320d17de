/**
 * globalSetup of the browser project: its own stack (state dir `test-browser`, ports 100 above the
 * e2e stack's, or from BEEHIVE_BROWSER_PORT_BASE), so the Chromium tests can run in the same
 * `vitest run` as the e2e tests, whose durability tests take Postgres down and restart the Worker.
 */
import type { TestProject } from 'vitest/node';
import { setupStack } from './stack.ts';

export default function setup(project: TestProject) {
  const base = process.env.BEEHIVE_BROWSER_PORT_BASE;
  return setupStack(project, { name: 'browser', ...(base ? { portBase: Number(base) } : { portOffset: 100 }) });
}
