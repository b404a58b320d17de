/**
 * One message of the log: sender, time, reply quote, content (text as text,
 * never HTML; images inline; files as downloads), reactions, read state, and
 * its menu ("Edit", "Recall", "React", "Reply", "Forward" where allowed).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Message } from '../../client/index.ts';
import { formatTime, label, named, t, previewLabels } from '../i18n.ts';
import { displayName, previewOf } from '../state/conversations.ts';
import type { Outgoing } from '../state/threads.ts';
import { useStore } from '../store-context.ts';
import { MenuButton, type MenuItem } from '../components/menu.tsx';
import { MessageMedia } from '../components/media.tsx';
import { ForwardDialog } from './forward-dialog.tsx';

/** API.md defaults (EDIT_WINDOW_SECONDS, RECALL_WINDOW_SECONDS): the menu offers what the server will likely allow; the server decides. */
const EDIT_WINDOW_MS = 172_800_000;
const RECALL_WINDOW_MS = 120_000;
export const REACTIONS = ['👍', '❤️', '😂', '🎉', '😮', '😢'];

export function MessageItem({
  message: m,
  mine,
  canModerate,
  replyTo,
  onReply,
  seenBy,
}: {
  message: Message;
  mine: boolean;
  canModerate: boolean;
  replyTo: Message | undefined;
  onReply: (m: Message) => void;
  seenBy: string[] | undefined;
}) {
  const store = useStore();
  const users = store.users.value;
  const me = store.me.value?.id ?? '';
  const [editing, setEditing] = useState(false);
  const [forwarding, setForwarding] = useState(false);
  const [picking, setPicking] = useState(false);
  const gone = m.recalled === true || m.expired === true;
  const age = Date.now() - Date.parse(m.createdAt);

  const items: MenuItem[] = picking
    ? REACTIONS.map((emoji) => ({ label: emoji, text: emoji, onSelect: () => (setPicking(false), void store.react(m, emoji)) }))
    : [
        ...(mine && m.type === 'text' && age < EDIT_WINDOW_MS ? [{ label: label('edit'), text: t('edit'), onSelect: () => setEditing(true) }] : []),
        ...((mine && age < RECALL_WINDOW_MS) || canModerate ? [{ label: label('recall'), text: t('recall'), onSelect: () => void store.recall(m) }] : []),
        { label: label('react'), text: t('react'), keepOpen: true, onSelect: () => setPicking(true) },
        { label: label('reply'), text: t('reply'), onSelect: () => onReply(m) },
        { label: label('forward'), text: t('forward'), onSelect: () => setForwarding(true) },
      ];

  return (
    <article class={`msg ${mine ? 'mine' : ''} ${gone ? 'gone' : ''}`} data-seq={m.seq}>
      <header>
        <span class="sender">{displayName(users[m.senderId])}</span>
        <time dateTime={m.createdAt}>{formatTime(m.createdAt)}</time>
        {m.editedAt && <span class="edited">({t('edited')})</span>}
      </header>
      {m.forwardedFrom && <p class="forwarded">↪ {t('forwarded')}</p>}
      {m.replyToSeq && (
        <blockquote class="quote">
          {replyTo ? `${displayName(users[replyTo.senderId])}: ${previewOf(replyTo, previewLabels())}` : `#${m.replyToSeq}`}
        </blockquote>
      )}
      {gone ? (
        <p class="body gone">{m.recalled ? t('recalled') : t('expired')}</p>
      ) : editing ? (
        <EditForm message={m} onDone={() => setEditing(false)} />
      ) : m.type === 'text' ? (
        <p class="body">
          <TextWithMentions text={typeof m.content === 'string' ? m.content : ''} mentioned={m.mentions?.includes(me) === true || m.mentionAll === true} />
        </p>
      ) : (
        <MessageMedia message={m} />
      )}
      {!!m.reactions?.length && (
        <div class="reactions">
          {m.reactions.map((r) => (
            <button
              key={r.emoji}
              type="button"
              class="reaction"
              aria-pressed={r.userIds.includes(me)}
              aria-label={`${r.emoji} ${r.count}`}
              title={r.userIds.map((u) => displayName(users[u])).join(', ')}
              onClick={() => void store.react(m, r.emoji)}
            >
              {r.emoji} {r.count}
            </button>
          ))}
        </div>
      )}
      {seenBy && <p class="seen">{t('seenBy', { names: seenBy.join(', ') })}</p>}
      {!gone && !editing && <MenuButton label={label('messageActions')} text="⋯" items={items} />}
      {forwarding && <ForwardDialog message={m} onClose={() => setForwarding(false)} />}
    </article>
  );
}

/** My message before its ack: greyed, or marked failed. */
export function OutgoingItem({ outgoing: o }: { outgoing: Outgoing }) {
  const store = useStore();
  return (
    <article class={`msg mine pending ${o.failed ? 'failed' : ''}`}>
      <header>
        <span class="sender">{displayName(store.me.value ?? undefined)}</span>
        <time dateTime={o.createdAt}>{o.failed ? '⚠' : '…'}</time>
      </header>
      <p class="body">{typeof o.content === 'string' ? o.content : o.type === 'image' ? t('image') : t('file')}</p>
    </article>
  );
}

/** Text as text; @words highlighted when the message mentions me. */
function TextWithMentions({ text, mentioned }: { text: string; mentioned: boolean }) {
  const parts = text.split(/(@[\p{L}\p{N}_.-]+)/u);
  return (
    <>
      {parts.map((p, i) => (i % 2 === 1 ? <span key={i} class={`mention ${mentioned ? 'me' : ''}`}>{p}</span> : p))}
    </>
  );
}

function EditForm({ message, onDone }: { message: Message; onDone: () => void }) {
  const store = useStore();
  const [text, setText] = useState(typeof message.content === 'string' ? message.content : '');
  const box = useRef<HTMLTextAreaElement>(null);
  useEffect(() => box.current?.focus(), []);
  const save = () => {
    const content = text.trim();
    if (content && content !== message.content) void store.edit(message, content);
    onDone();
  };
  return (
    <form
      class="edit"
      onSubmit={(e) => {
        e.preventDefault();
        save();
      }}
    >
      <textarea
        aria-label={label('editMessage')}
        value={text}
        maxLength={4000}
        ref={box}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') (e.preventDefault(), onDone());
          if (e.key === 'Enter' && !e.shiftKey) (e.preventDefault(), save());
        }}
      />
      <button type="submit" class="primary" {...named('save')} />
      <button type="button" onClick={onDone} {...named('cancel')} />
    </form>
  );
}
