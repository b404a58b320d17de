/**
 * "Group info": rename and announce (owner/admin), members with their roles,
 * remove (owner: anyone; admin: plain members), make admin or member (owner),
 * add friends, leave.
 */
import { useState } from 'preact/hooks';
import type { Conversation, Role } from '../../client/index.ts';
import { label, named, t } from '../i18n.ts';
import { navigate } from '../router.ts';
import { displayName } from '../state/conversations.ts';
import { useStore } from '../store-context.ts';
import { Dialog } from '../components/dialog.tsx';
import { FriendPicker } from '../components/friend-picker.tsx';

export function GroupInfoDialog({ conversation: conv, onClose }: { conversation: Conversation; onClose: () => void }) {
  const store = useStore();
  const me = store.me.value?.id ?? '';
  const users = store.users.value;
  const myRole: Role = conv.members.find((m) => m.userId === me)?.role ?? 'member';
  const manager = myRole === 'owner' || myRole === 'admin';
  const [name, setName] = useState(conv.name ?? '');
  const [announcement, setAnnouncement] = useState(conv.announcement ?? '');
  const [adding, setAdding] = useState<Set<string>>(new Set());
  const memberIds = new Set(conv.members.map((m) => m.userId));
  const candidates = store.friends.value.filter((f) => !memberIds.has(f.user.id)).map((f) => ({ id: f.user.id, name: displayName(f.user) }));
  const change = (run: Parameters<typeof store.changeGroup>[1]) => void store.changeGroup(conv.id, run);
  const roleText = (r: Role) => t(r);

  return (
    <Dialog title={t('groupInfo')} onClose={onClose}>
      {manager && (
        <form
          class="row"
          onSubmit={(e) => {
            e.preventDefault();
            if (name.trim()) change((api) => api.conversations.update(conv.id, { name: name.trim() }));
          }}
        >
          <input class="grow" aria-label={label('groupName')} maxLength={64} value={name} onInput={(e) => setName(e.currentTarget.value)} />
          <button type="submit" {...named('rename')} />
        </form>
      )}
      {manager ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            change((api) => api.conversations.update(conv.id, { announcement: announcement.trim() || null }));
          }}
        >
          <label>
            {t('announcement')}
            <textarea aria-label={label('announcement')} maxLength={2000} value={announcement} onInput={(e) => setAnnouncement(e.currentTarget.value)} />
          </label>
          <button type="submit" {...named('saveAnnouncement')} />
        </form>
      ) : (
        conv.announcement && <p class="announcement">📢 {conv.announcement}</p>
      )}
      <h3>{t('members')}</h3>
      <ul class="members" aria-label={label('members')}>
        {conv.members.map((m) => {
          const canRemove = m.userId !== me && (myRole === 'owner' || (myRole === 'admin' && m.role === 'member'));
          return (
            <li key={m.userId}>
              <span class="name">
                {displayName(users[m.userId])} {m.userId === me && <small>({t('you')})</small>} <small class="role">{roleText(m.role)}</small>
              </span>
              {myRole === 'owner' && m.role !== 'owner' && (
                <button
                  type="button"
                  onClick={() => change((api) => api.conversations.setRole(conv.id, m.userId, m.role === 'admin' ? 'member' : 'admin'))}
                  {...named(m.role === 'admin' ? 'makeMember' : 'makeAdmin')}
                />
              )}
              {canRemove && <button type="button" class="danger" onClick={() => change((api) => api.conversations.removeMember(conv.id, m.userId))} {...named('remove')} />}
            </li>
          );
        })}
      </ul>
      {manager && candidates.length > 0 && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const ids = [...adding];
            if (ids.length) change((api) => api.conversations.addMembers(conv.id, ids));
            setAdding(new Set());
          }}
        >
          <h3>{t('addMembers')}</h3>
          <FriendPicker candidates={candidates} chosen={adding} onChange={setAdding} />
          <button type="submit" disabled={adding.size === 0} {...named('add')} />
        </form>
      )}
      <button
        type="button"
        class="danger"
        onClick={() =>
          void store.leave(conv.id).then(() => {
            onClose();
            navigate('/');
          })
        }
        {...named('leaveGroup')}
      />
    </Dialog>
  );
}
