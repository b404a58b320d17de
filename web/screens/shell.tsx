/**
 * Signed in: the sidebar (connection, message search, conversations, people)
 * beside the chat. Narrow screens (≤ 720 px) show one of the two at a time.
 */
import { useEffect } from 'preact/hooks';
import { named, t } from '../i18n.ts';
import { chatPath, navigate, route } from '../router.ts';
import { useStore } from '../store-context.ts';
import { NotificationsButton } from '../components/notifications-button.tsx';
import { Chat } from './chat.tsx';
import { ConversationList } from './conversation-list.tsx';
import { MessageSearch } from './message-search.tsx';
import { People } from './people.tsx';
import { displayName } from '../state/conversations.ts';

export function Shell() {
  const store = useStore();
  const current = route.value;
  const chatId = current.name === 'chat' ? current.id : null;

  useEffect(() => {
    if (chatId) void store.open(chatId);
    else store.activeId.value = null;
  }, [chatId]);

  // Coming back to the tab counts as reading what arrived meanwhile.
  useEffect(() => {
    const onVisible = () => store.markActiveRead();
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  }, []);

  return (
    <div class={`shell ${chatId ? 'has-chat' : ''}`}>
      <aside class="sidebar">
        <header class="bar">
          <strong class="brand">🐝 {t('appName')}</strong>
          <ConnectionState />
          <span class="me" title={store.me.value?.username}>{displayName(store.me.value ?? undefined)}</span>
          <button type="button" class="link" onClick={() => void store.signOut().then(() => navigate('/'))} {...named('signOut')} />
        </header>
        <MessageSearch onOpen={(id) => navigate(chatPath(id))} />
        <ConversationList activeId={chatId} />
        <People />
        <NotificationsButton />
      </aside>
      <main class="main">{chatId ? <Chat key={chatId} id={chatId} /> : <p class="placeholder">{t('pickConversation')}</p>}</main>
    </div>
  );
}

/** "Offline" / "Connecting…" while the socket is not live; a quiet dot when it is. */
function ConnectionState() {
  const s = useStore().connection.value;
  const text = s === 'online' ? t('connectionOnline') : s === 'offline' ? t('connectionOffline') : t('connectionConnecting');
  return (
    <span class={`conn conn-${s}`} role="status" aria-live="polite">
      {text}
    </span>
  );
}
