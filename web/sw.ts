/**
 * The service worker: shows Web Push notifications (payload per API.md §
 * Push: `{type, conversationId, seq, senderId, senderName, preview?}`) unless
 * a window of the app is in view, and opens the conversation on a click.
 */
declare const self: ServiceWorkerGlobalScope;

interface PushPayload {
  type: string;
  conversationId: string;
  seq: number;
  senderName?: string;
  preview?: string;
}

self.addEventListener('install', () => void self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('push', (event) => {
  event.waitUntil(
    (async () => {
      let payload: PushPayload;
      try {
        payload = event.data?.json() as PushPayload;
      } catch {
        return;
      }
      if (payload?.type !== 'message.new') return;
      const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      // The open tab has it live already.
      if (windows.some((w) => w.visibilityState === 'visible')) return;
      await self.registration.showNotification(payload.senderName ?? 'Beehive', {
        body: payload.preview ?? '',
        tag: payload.conversationId, // a newer message of the conversation replaces the older notification
        data: { conversationId: payload.conversationId },
      });
    })(),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const conversationId = (event.notification.data as { conversationId?: string } | null)?.conversationId;
  const path = conversationId ? `/c/${encodeURIComponent(conversationId)}` : '/';
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const open = windows[0];
      if (open) {
        await open.navigate(path).catch(() => undefined);
        await open.focus();
      } else {
        await self.clients.openWindow(path);
      }
    })(),
  );
});

export {};
