/**
 * searchbox "Search messages": hits across my conversations, best first,
 * with the matches highlighted. The server's `highlight` is the message text
 * HTML-escaped with `<em>` around each match; it is parsed into text and
 * <mark> nodes here rather than assigned as HTML, so nothing in it can ever
 * become markup but the marks.
 */
import { useState } from 'preact/hooks';
import { formatTime, label, t } from '../i18n.ts';
import { displayName, titleOf } from '../state/conversations.ts';
import { useStore } from '../store-context.ts';
import { useDebouncedSearch } from '../components/use-debounced-search.ts';

export function MessageSearch({ onOpen }: { onOpen: (conversationId: string) => void }) {
  const store = useStore();
  const [q, setQ] = useState('');
  const hits = useDebouncedSearch(
    q,
    async (query) => {
      const r = await store.api.search.messages({ q: query.slice(0, 200), limit: 20 });
      void store.ensureUsers(r.items.map((h) => h.message.senderId));
      return r.items;
    },
    (err) => store.fail(err),
  );
  const me = store.me.value?.id ?? '';
  const users = store.users.value;
  const conversations = store.conversations.value;
  return (
    <div class="message-search">
      <input
        type="search"
        aria-label={label('searchMessages')}
        placeholder={t('searchMessages')}
        value={q}
        onInput={(e) => setQ(e.currentTarget.value)}
        onKeyDown={(e) => e.key === 'Escape' && setQ('')}
      />
      {hits && (
        <ul class="hits" aria-label={label('searchResults')}>
          {hits.length === 0 && <li class="empty">{t('noHits')}</li>}
          {hits.map((h) => {
            const conv = conversations[h.message.conversationId];
            return (
              <li key={`${h.message.conversationId}:${h.message.seq}`}>
                <button
                  type="button"
                  class="hit"
                  onClick={() => {
                    setQ('');
                    onOpen(h.message.conversationId);
                  }}
                >
                  <span class="meta">
                    {conv ? titleOf(conv, me, users) : ''} · {displayName(users[h.message.senderId])} · {formatTime(h.message.createdAt)}
                  </span>
                  <span class="snippet">
                    <Highlight html={h.highlight} />
                  </span>
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}

/** Text and marked runs of a highlight: the entity-decoded text of the server's escaped HTML, `<em>` runs marked. */
export function highlightParts(html: string): Array<{ text: string; hit: boolean }> {
  // A parsed document that is never attached: it runs no script and loads nothing.
  const doc = new DOMParser().parseFromString(`<body>${html}</body>`, 'text/html');
  const parts: Array<{ text: string; hit: boolean }> = [];
  for (const node of doc.body.childNodes) {
    const text = node.textContent ?? '';
    if (text) parts.push({ text, hit: node.nodeName === 'EM' });
  }
  return parts;
}

function Highlight({ html }: { html: string }) {
  return (
    <>
      {highlightParts(html).map((p, i) => (p.hit ? <mark key={i}>{p.text}</mark> : p.text))}
    </>
  );
}
