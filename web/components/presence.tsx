/** A person's presence: a dot in lists, words in a chat's header. */
import { formatTime, t } from '../i18n.ts';
import { useStore } from '../store-context.ts';

export function PresenceDot({ userId }: { userId: string }) {
  const p = useStore().presence.value[userId];
  return <span class={`dot ${p?.online ? 'on' : 'off'}`} aria-hidden="true" />;
}

export function presenceText(p: { online: boolean; lastSeenAt: string | null } | undefined): string {
  if (p?.online) return t('online');
  return p?.lastSeenAt ? t('lastSeen', { time: formatTime(p.lastSeenAt) }) : t('neverSeen');
}
