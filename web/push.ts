/**
 * Web Push through the service worker (/sw.js): registered on load where the
 * browser has service workers (secure contexts: https, localhost); subscribed
 * on the user's click, with the server's VAPID key (API.md § Push).
 */
import type { AppStore } from './state/store.ts';

export async function registerServiceWorker(): Promise<ServiceWorkerRegistration | undefined> {
  if (!('serviceWorker' in navigator) || !isSecureContext) return undefined;
  try {
    return await navigator.serviceWorker.register('/sw.js', { scope: '/' });
  } catch {
    return undefined; // push is an extra: the app works without it
  }
}

export type PushOutcome = 'subscribed' | 'unavailable' | 'denied';

/** Asks for permission, subscribes this browser at its push service and tells the server where to push. */
export async function enablePush(store: AppStore): Promise<PushOutcome> {
  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) return 'unavailable';
  if ((await Notification.requestPermission()) !== 'granted') return 'denied';
  const reg = (await navigator.serviceWorker.getRegistration('/')) ?? (await registerServiceWorker());
  if (!reg) return 'unavailable';
  const { publicKey } = await store.api.push.vapidPublicKey();
  const sub =
    (await reg.pushManager.getSubscription()) ??
    (await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: base64urlBytes(publicKey) }));
  const json = sub.toJSON();
  if (!json.endpoint || !json.keys?.p256dh || !json.keys.auth) return 'unavailable';
  await store.api.push.subscribe({ deviceId: store.devices.browser, kind: 'webpush', endpoint: json.endpoint, keys: { p256dh: json.keys.p256dh, auth: json.keys.auth } });
  return 'subscribed';
}

function base64urlBytes(s: string): Uint8Array<ArrayBuffer> {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}
