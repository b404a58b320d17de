/** The few routes of the app, in the address bar (the Worker serves index.html for any of them: SPA mode). */
import { signal } from '@preact/signals';

export type Route = { name: 'home' } | { name: 'chat'; id: string };

function parse(path: string): Route {
  const chat = /^\/c\/([^/]+)$/.exec(path);
  return chat ? { name: 'chat', id: decodeURIComponent(chat[1]!) } : { name: 'home' };
}

export const route = signal<Route>(parse(location.pathname));

export function navigate(path: string): void {
  if (location.pathname !== path) history.pushState(null, '', path);
  route.value = parse(path);
}

export const chatPath = (id: string) => `/c/${encodeURIComponent(id)}`;

window.addEventListener('popstate', () => (route.value = parse(location.pathname)));
