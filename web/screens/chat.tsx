/**
 * A conversation: its header (peer presence or member count, group info),
 * the log "Messages" (newest last; older pages load when scrolled to the
 * top), who is typing, and the composer.
 */
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Message } from '../../client/index.ts';
import { label, named, t } from '../i18n.ts';
import { navigate } from '../router.ts';
import { displayName, peerOf, titleOf } from '../state/conversations.ts';
import { lastOwn, messageAt } from '../state/threads.ts';
import { useStore } from '../store-context.ts';
import { presenceText } from '../components/presence.tsx';
import { Composer } from './composer.tsx';
import { GroupInfoDialog } from './group-info.tsx';
import { MessageItem, OutgoingItem } from './message-item.tsx';

/** Scrolled this close to the top, the next older page is fetched. */
const TOP_PX = 48;

export function Chat({ id }: { id: string }) {
  const store = useStore();
  const me = store.me.value?.id ?? '';
  const conv = store.conversations.value[id];
  const thread = store.threads.value[id];
  const users = store.users.value;
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const [infoOpen, setInfoOpen] = useState(false);

  if (!conv) return <p class="placeholder">…</p>;
  const title = titleOf(conv, me, users);
  const peer = peerOf(conv, me);
  const myRole = conv.members.find((m) => m.userId === me)?.role ?? 'member';

  return (
    <section class="chat" aria-label={title}>
      <header class="bar chat-header">
        <button type="button" class="link back" onClick={() => navigate('/')} {...named('back')} />
        <div class="who">
          <h2>{title}</h2>
          <small class="presence">{peer ? presenceText(store.presence.value[peer]) : t('membersCount', { n: conv.members.length })}</small>
        </div>
        {conv.kind === 'group' && <button type="button" onClick={() => setInfoOpen(true)} {...named('groupInfo')} />}
      </header>
      {conv.announcement && <p class="announcement">📢 {conv.announcement}</p>}
      <MessageLog id={id} me={me} myRole={myRole} onReply={setReplyTo} />
      <Typing id={id} />
      <Composer conversation={conv} replyTo={replyTo} onReplyDone={() => setReplyTo(null)} />
      {infoOpen && <GroupInfoDialog conversation={conv} onClose={() => setInfoOpen(false)} />}
      {!thread?.loaded && thread?.loading && <p class="hint">…</p>}
    </section>
  );
}

function MessageLog({ id, me, myRole, onReply }: { id: string; me: string; myRole: string; onReply: (m: Message) => void }) {
  const store = useStore();
  const thread = store.thread(id);
  const conv = store.conversations.value[id]!;
  const users = store.users.value;
  const reads = store.reads.value[id] ?? {};
  const log = useRef<HTMLDivElement>(null);
  // What the log looked like before this render: to stay at the bottom, or to keep the view steady when a page is prepended.
  const before = useRef<{ first?: number; last?: number | string; height: number; atBottom: boolean }>({ height: 0, atBottom: true });

  const first = thread.messages[0]?.seq;
  const lastKey = thread.outgoing.at(-1)?.clientMsgId ?? thread.messages.at(-1)?.seq;

  useLayoutEffect(() => {
    const el = log.current;
    if (!el) return;
    const b = before.current;
    if (b.first !== undefined && first !== undefined && first < b.first) el.scrollTop += el.scrollHeight - b.height;
    else if (b.atBottom || lastKey !== b.last) {
      const mine = thread.outgoing.length > 0 || thread.messages.at(-1)?.senderId === me;
      if (b.atBottom || mine) el.scrollTop = el.scrollHeight;
    }
    before.current = { first, last: lastKey, height: el.scrollHeight, atBottom: el.scrollHeight - el.scrollTop - el.clientHeight < 80 };
    // A first page shorter than the log cannot be scrolled: fetch the next one now.
    if (thread.loaded && thread.hasMore && !thread.loading && el.scrollHeight <= el.clientHeight) void store.loadOlder(id);
  }, [first, lastKey, thread.loaded, thread.messages.length]);

  const onScroll = () => {
    const el = log.current;
    if (!el) return;
    before.current = { ...before.current, height: el.scrollHeight, atBottom: el.scrollHeight - el.scrollTop - el.clientHeight < 80 };
    if (el.scrollTop < TOP_PX) void store.loadOlder(id);
  };

  const own = lastOwn(thread, me);
  const seenBy = own
    ? conv.members.filter((m) => m.userId !== me && (reads[m.userId] ?? 0) >= own.seq).map((m) => displayName(users[m.userId]))
    : [];

  return (
    <div ref={log} class="log" role="log" aria-label={label('messages')} aria-live="polite" tabIndex={0} onScroll={onScroll}>
      <p class="log-start hint">{thread.loading && thread.loaded ? t('loadingOlder') : thread.loaded && !thread.hasMore ? t('startOfConversation') : ''}</p>
      {thread.messages.map((m) => (
        <MessageItem
          key={m.seq}
          message={m}
          mine={m.senderId === me}
          canModerate={conv.kind === 'group' && (myRole === 'owner' || myRole === 'admin')}
          replyTo={m.replyToSeq ? messageAt(thread, m.replyToSeq) : undefined}
          onReply={onReply}
          seenBy={own?.seq === m.seq && seenBy.length ? seenBy : undefined}
        />
      ))}
      {thread.outgoing.map((o) => (
        <OutgoingItem key={o.clientMsgId} outgoing={o} />
      ))}
    </div>
  );
}

function Typing({ id }: { id: string }) {
  const store = useStore();
  const now = Date.now();
  const names = Object.entries(store.typing.value[id] ?? {})
    .filter(([, until]) => until > now)
    .map(([userId]) => displayName(store.users.value[userId]));
  return (
    <p class="typing" aria-live="polite">
      {names.length === 1 ? t('isTyping', { name: names[0]! }) : names.length > 1 ? t('areTyping', { names: names.join(', ') }) : ''}
    </p>
  );
}
