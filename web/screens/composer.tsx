/**
 * The composer: textbox "Message" (Enter sends, Shift+Enter breaks the
 * line), button "Send", file input "Attach file" (a tus upload with a
 * progress bar, then an image or file message), the reply being written,
 * and @mention suggestions in groups.
 */
import { useRef, useState } from 'preact/hooks';
import { uploadFile, type Conversation, type Message } from '../../client/index.ts';
import { label, named, t, previewLabels } from '../i18n.ts';
import { displayName, previewOf } from '../state/conversations.ts';
import { useStore } from '../store-context.ts';

export function Composer({ conversation: conv, replyTo, onReplyDone }: { conversation: Conversation; replyTo: Message | null; onReplyDone: () => void }) {
  const store = useStore();
  const me = store.me.value?.id ?? '';
  const users = store.users.value;
  const [text, setText] = useState('');
  const [upload, setUpload] = useState<{ name: string; sent: number; total: number } | null>(null);
  const input = useRef<HTMLTextAreaElement>(null);
  const myRole = conv.members.find((m) => m.userId === me)?.role;
  const others = conv.members.filter((m) => m.userId !== me).map((m) => ({ id: m.userId, user: users[m.userId] }));

  const word = /(?:^|\s)@([\p{L}\p{N}_.-]*)$/u.exec(text)?.[1];
  const suggestions =
    conv.kind === 'group' && word !== undefined
      ? [
          ...(myRole === 'owner' || myRole === 'admin' ? [{ id: 'all', handle: 'all' }] : []),
          ...others.filter((o) => o.user).map((o) => ({ id: o.id, handle: o.user!.username })),
        ].filter((s) => s.handle.toLowerCase().startsWith(word.toLowerCase()))
      : [];

  const send = () => {
    const content = text.trim();
    if (!content) return;
    const mentions = others.filter((o) => o.user && new RegExp(`(^|\\s)@${escapeRegExp(o.user.username)}(?![\\p{L}\\p{N}_.-])`, 'u').test(content)).map((o) => o.id);
    const mentionAll = conv.kind === 'group' && (myRole === 'owner' || myRole === 'admin') && /(^|\s)@all\b/.test(content);
    void store.sendText(conv.id, content, {
      ...(replyTo ? { replyToSeq: replyTo.seq } : {}),
      ...(mentions.length ? { mentions } : {}),
      ...(mentionAll ? { mentionAll: true } : {}),
    });
    setText('');
    onReplyDone();
    input.current?.focus();
  };

  const attach = async (file: File) => {
    setUpload({ name: file.name, sent: 0, total: file.size });
    try {
      const [stored, size] = await Promise.all([
        uploadFile(store.api.http, file, file.name, { onProgress: (sent, total) => setUpload({ name: file.name, sent, total }) }),
        imageSize(file),
      ]);
      await store.sendFile(conv.id, { id: stored.id, name: stored.name, contentType: stored.contentType, ...size }, replyTo?.seq);
      onReplyDone();
    } catch (err) {
      store.fail(err);
    } finally {
      setUpload(null);
    }
  };

  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      {replyTo && (
        <div class="replying">
          <span>
            {t('replyingTo', { name: displayName(users[replyTo.senderId]) })}:{' '}
            <q>{previewOf(replyTo, previewLabels())}</q>
          </span>
          <button type="button" class="link" onClick={onReplyDone} {...named('cancelReply')} />
        </div>
      )}
      {upload && (
        <div class="upload">
          <span>{t('uploading', { name: upload.name })}</span>
          <progress aria-label={label('uploadProgress')} max={upload.total || 1} value={upload.sent} />
        </div>
      )}
      {suggestions.length > 0 && (
        <div class="suggestions">
          {suggestions.slice(0, 6).map((s) => (
            <button
              key={s.id}
              type="button"
              class="chip"
              onClick={() => {
                setText(text.replace(/@([\p{L}\p{N}_.-]*)$/u, `@${s.handle} `));
                input.current?.focus();
              }}
            >
              @{s.handle}
            </button>
          ))}
        </div>
      )}
      <div class="row">
        <label class="attach" title={t('attachFile')}>
          <span aria-hidden="true">📎</span>
          <input
            type="file"
            class="visually-hidden"
            aria-label={label('attachFile')}
            disabled={upload !== null}
            onChange={(e) => {
              const file = e.currentTarget.files?.[0];
              e.currentTarget.value = '';
              if (file) void attach(file);
            }}
          />
        </label>
        <textarea
          ref={input}
          rows={1}
          aria-label={label('message')}
          placeholder={t('message')}
          maxLength={4000}
          value={text}
          onInput={(e) => {
            setText(e.currentTarget.value);
            if (e.currentTarget.value) store.typingNow(conv.id);
          }}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              send();
            }
          }}
        />
        <button type="submit" class="primary" disabled={!text.trim()} {...named('send')} />
      </div>
    </form>
  );
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** An image's pixel size, sent along so the log keeps its layout while the image loads. */
async function imageSize(file: File): Promise<{ width?: number; height?: number }> {
  if (!file.type.startsWith('image/')) return {};
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return img.naturalWidth > 0 ? { width: img.naturalWidth, height: img.naturalHeight } : {};
  } catch {
    return {};
  } finally {
    URL.revokeObjectURL(url);
  }
}
