/**
 * Chromium for the browser tests: the machine's own (Debian's `chromium`
 * package, or CHROMIUM_PATH), driven by playwright-core. Never a downloaded
 * browser: playwright-core has no download step, and none is wanted.
 */
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

/** Where Chromium is, if anywhere. */
export function chromiumPath(): string | undefined {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((p): p is string => !!p && existsSync(p));
}

/** How to get one, in a line (npm test prints it when there is none). */
export const NO_CHROMIUM = 'No Chromium found: the browser tests need one (apt-get install chromium, or set CHROMIUM_PATH).';

export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error(NO_CHROMIUM);
  // Loaded here, not at the top: `npm test` imports this module only to look for a Chromium.
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath,
    // As root there is no sandbox; without the network flags Chromium calls Google's hosts, which this machine refuses.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
