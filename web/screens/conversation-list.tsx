/** navigation "Conversations": each item names the peer or group, with unread and mention counts, presence and the last message. */
import { label, t, previewLabels } from '../i18n.ts';
import { chatPath, navigate } from '../router.ts';
import { peerOf, previewOf, titleOf } from '../state/conversations.ts';
import { useStore } from '../store-context.ts';
import { PresenceDot } from '../components/presence.tsx';

export function ConversationList({ activeId }: { activeId: string | null }) {
  const store = useStore();
  const me = store.me.value?.id ?? '';
  const users = store.users.value;
  const list = store.ordered.value;
  return (
    <nav class="conversations" aria-label={label('conversations')}>
      <h2>{t('conversations')}</h2>
      {list.length === 0 && <p class="empty">{t('noConversations')}</p>}
      <ul>
        {list.map((c) => {
          const peer = peerOf(c, me);
          const href = chatPath(c.id);
          return (
            <li key={c.id}>
              <a
                href={href}
                class={c.id === activeId ? 'active' : ''}
                aria-current={c.id === activeId ? 'page' : undefined}
                onClick={(e) => {
                  e.preventDefault();
                  navigate(href);
                }}
              >
                <span class="title">
                  {peer && <PresenceDot userId={peer} />}
                  <span class="name">{titleOf(c, me, users)}</span>
                  {c.mentionCount > 0 && (
                    <span class="badge mention" title={t('mentionsYou')}>
                      @{c.mentionCount}
                    </span>
                  )}
                  {c.unreadCount > 0 && (
                    <span class="badge" title={t('unread', { n: c.unreadCount })}>
                      {c.unreadCount}
                    </span>
                  )}
                </span>
                <span class="preview">{previewOf(c.lastMessage, previewLabels())}</span>
              </a>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
