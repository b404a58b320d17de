/**
 * What the browser keeps between visits: the session's tokens (localStorage,
 * shared by the tabs of one browser profile) and the device ids.
 */
import { randomId, type TokenStore, type Tokens } from '../../client/index.ts';

const TOKENS_KEY = 'beehive.tokens';
const BROWSER_KEY = 'beehive.browser';
const TAB_KEY = 'beehive.tab';

/** Read on every use, so a rotation made by another tab is seen here at once. */
export const storedTokens: TokenStore = {
  get(): Tokens | null {
    try {
      const raw = localStorage.getItem(TOKENS_KEY);
      return raw ? (JSON.parse(raw) as Tokens) : null;
    } catch {
      return null;
    }
  },
  set(tokens: Tokens | null): void {
    if (tokens) localStorage.setItem(TOKENS_KEY, JSON.stringify(tokens));
    else localStorage.removeItem(TOKENS_KEY);
  },
};

/** Token rotations one tab at a time (a refresh token used twice revokes the session). */
export function acrossTabs<T>(run: () => Promise<T>): Promise<T> {
  return navigator.locks ? navigator.locks.request('beehive.refresh', run) : run();
}

function stored(storage: Storage, key: string): string {
  let id = storage.getItem(key);
  if (!id) storage.setItem(key, (id = randomId().slice(0, 12)));
  return id;
}

/**
 * This browser (push subscriptions are per browser) and this tab (its socket's device id). The server does not
 * send a device its own messages — the ack stands for them — so two tabs must not share a socket device id.
 */
export function deviceIds(): { browser: string; socket: string } {
  const browser = `web-${stored(localStorage, BROWSER_KEY)}`;
  return { browser, socket: `${browser}.${stored(sessionStorage, TAB_KEY)}` };
}
