/** Image, voice and file messages: content through a signed URL (GET /files/:id/url), images inline. */
import { useEffect, useState } from 'preact/hooks';
import type { Message } from '../../client/index.ts';
import { label, t } from '../i18n.ts';
import { useStore } from '../store-context.ts';

export function MessageMedia({ message: m }: { message: Message }) {
  const store = useStore();
  const [url, setUrl] = useState<string | null>(null);
  const content = (m.content ?? {}) as { caption?: string; width?: number; height?: number; name?: string };
  useEffect(() => {
    if (!m.fileId) return;
    let live = true;
    store.fileUrl(m.fileId).then((u) => live && setUrl(u), (err) => store.fail(err));
    return () => void (live = false);
  }, [m.fileId]);

  if (m.type === 'image') {
    return (
      <figure class="body image">
        {url ? <img src={url} alt={content.caption || t('image')} width={content.width} height={content.height} /> : <span class="img-placeholder" />}
        {content.caption && <figcaption>{content.caption}</figcaption>}
      </figure>
    );
  }
  if (m.type === 'voice') return <p class="body">{url ? <audio controls src={url} aria-label={label('voice')} /> : t('voice')}</p>;
  const name = content.name ?? t('file');
  return (
    <p class="body file">
      📄{' '}
      <a
        href={url ?? '#'}
        download={name}
        aria-label={label('download', { name })}
        onClick={(e) => {
          // Signed URLs last 5 minutes: a page left open gets a fresh one.
          e.preventDefault();
          if (!m.fileId) return;
          void store.fileUrl(m.fileId).then((u) => {
            const a = document.createElement('a');
            a.href = u;
            a.download = name;
            a.click();
          });
        }}
      >
        {t('download', { name })}
      </a>
    </p>
  );
}
