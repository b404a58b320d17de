/** "Enable notifications", where the browser can: Web Push while no tab of the app is open. */
import { useState } from 'preact/hooks';
import { label, t } from '../i18n.ts';
import { enablePush, type PushOutcome } from '../push.ts';
import { useStore } from '../store-context.ts';

export function NotificationsButton() {
  const store = useStore();
  const [outcome, setOutcome] = useState<PushOutcome | null>(typeof Notification !== 'undefined' && Notification.permission === 'denied' ? 'denied' : null);
  if (!('serviceWorker' in navigator) || !isSecureContext) return null;
  if (outcome) {
    const text = outcome === 'subscribed' ? t('notificationsOn') : outcome === 'denied' ? t('notificationsDenied') : t('notificationsUnavailable');
    return <p class="hint notifications">{text}</p>;
  }
  return (
    <button
      type="button"
      class="link notifications"
      aria-label={label('notifications')}
      onClick={() =>
        void enablePush(store).then(setOutcome, (err) => {
          setOutcome('unavailable');
          store.fail(err);
        })
      }
    >
      🔔 {t('notifications')}
    </button>
  );
}
