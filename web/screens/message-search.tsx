/**
 * searchbox "Search messages": hits across my conversations, best first,
 * with the matches highlighted. The server's `highlight` is the message text
 * HTML-escaped with `<em>` around each match; it is parsed into text and
 * <mark> nodes here rather than assigned as HTML, so nothing in it can ever
 * become markup but the marks.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { SearchHit } from '../../client/index.ts';
import { formatTime, label, t } from '../i18n.ts';
import { displayName, titleOf } from '../state/conversations.ts';
import { useStore } from '../store-context.ts';

export function MessageSearch({ onOpen }: { onOpen: (conversationId: string) => void }) {
  const store = useStore();
  const [q, setQ] = useState('');
  const [hits, setHits] = useState<SearchHit[] | null>(null);
  const seq = useRef(0);
  useEffect(() => {
    const query = q.trim();
    if (!query) return setHits(null);
    const mine = ++seq.current;
    const timer = setTimeout(() => {
      store.api.search
        .messages({ q: query.slice(0, 200), limit: 20 })
        .then((r) => {
          if (mine !== seq.current) return;
          setHits(r.items);
          void store.ensureUsers(r.items.map((h) => h.message.senderId));
        })
        .catch((err) => store.fail(err));
    }, 250);
    return () => clearTimeout(timer);
  }, [q]);
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
