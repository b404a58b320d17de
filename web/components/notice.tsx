/** The one place errors and confirmations show: a live region, dismissed by a click, Escape or time. */
import { useEffect } from 'preact/hooks';
import { named } from '../i18n.ts';
import { useStore } from '../store-context.ts';

export function Notice() {
  const store = useStore();
  const notice = store.notice.value;
  useEffect(() => {
    if (!notice) return;
    const timer = setTimeout(() => (store.notice.value = null), 6000);
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && (store.notice.value = null);
    window.addEventListener('keydown', onKey);
    return () => (clearTimeout(timer), window.removeEventListener('keydown', onKey));
  }, [notice]);
  return (
    <div class="notice-region" role="status" aria-live="polite">
      {notice && (
        <div class={`notice ${notice.kind}`}>
          <span>{notice.text}</span>
          <button type="button" class="link" onClick={() => (store.notice.value = null)} {...named('close')} />
        </div>
      )}
    </div>
  );
}
