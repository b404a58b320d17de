/** "Forward": pick a conversation of mine to forward the message into. */
import type { Message } from '../../client/index.ts';
import { t } from '../i18n.ts';
import { titleOf } from '../state/conversations.ts';
import { useStore } from '../store-context.ts';
import { Dialog } from '../components/dialog.tsx';

export function ForwardDialog({ message, onClose }: { message: Message; onClose: () => void }) {
  const store = useStore();
  const me = store.me.value?.id ?? '';
  const users = store.users.value;
  return (
    <Dialog title={t('forwardTo')} onClose={onClose}>
      <ul class="forward-targets">
        {store.ordered.value.map((c) => {
          const title = titleOf(c, me, users);
          return (
            <li key={c.id}>
              <button
                type="button"
                onClick={() =>
                  void store.forward(message, c.id).then((ok) => {
                    if (!ok) return;
                    store.notify(`${t('forwarded')} → ${title}`, 'info');
                    onClose();
                  })
                }
              >
                {title}
              </button>
            </li>
          );
        })}
      </ul>
    </Dialog>
  );
}
