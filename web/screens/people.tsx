/** Friends: find people (searchbox "Search users", "Add friend"), answer requests ("Accept", "Reject"), message or block a friend, start a group. */
import { useState } from 'preact/hooks';
import { label, named, t } from '../i18n.ts';
import { chatPath, navigate } from '../router.ts';
import { displayName } from '../state/conversations.ts';
import { useStore } from '../store-context.ts';
import { PresenceDot, presenceText } from '../components/presence.tsx';
import { useDebouncedSearch } from '../components/use-debounced-search.ts';
import { NewGroupDialog } from './new-group.tsx';

export function People() {
  return (
    <section class="people" aria-labelledby="people-heading">
      <h2 id="people-heading">{t('friends')}</h2>
      <UserSearch />
      <Requests />
      <FriendList />
      <NewGroupButton />
    </section>
  );
}

function UserSearch() {
  const store = useStore();
  const [q, setQ] = useState('');
  const [asked, setAsked] = useState<Set<string>>(new Set());
  const results = useDebouncedSearch(
    q,
    async (query) => (await store.api.users.search(query, { limit: 10 })).items.filter((u) => u.id !== store.me.value?.id),
    (err) => store.fail(err),
    200,
  );
  const friends = new Set(store.friends.value.map((f) => f.user.id));
  const pending = new Set([...store.outgoing.value.map((r) => r.toUserId), ...asked]);
  return (
    <div class="user-search">
      <input type="search" aria-label={label('searchUsers')} placeholder={t('searchUsers')} value={q} onInput={(e) => setQ(e.currentTarget.value)} />
      {results && (
        <ul class="results" aria-label={label('userResults')}>
          {results.length === 0 && <li class="empty">{t('noUsers')}</li>}
          {results.map((u) => (
            <li key={u.id}>
              <span class="name">
                {displayName(u)} <small>@{u.username}</small>
              </span>
              {friends.has(u.id) ? (
                <button type="button" onClick={() => void store.chatWith(u.id).then((id) => navigate(chatPath(id)), (err) => store.fail(err))} {...named('message')} />
              ) : pending.has(u.id) ? (
                <span class="hint">{t('requestSent')}</span>
              ) : (
                <button
                  type="button"
                  onClick={() =>
                    void store.addFriend(u.id).then(
                      () => setAsked(new Set([...asked, u.id])),
                      (err) => store.fail(err),
                    )
                  }
                  {...named('addFriend')}
                />
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function Requests() {
  const store = useStore();
  const incoming = store.incoming.value;
  const users = store.users.value;
  if (incoming.length === 0) return null;
  return (
    <section class="requests" aria-labelledby="requests-heading">
      <h3 id="requests-heading">{t('friendRequests')}</h3>
      <ul>
        {incoming.map((r) => (
          <li key={r.id}>
            <span class="name">
              {t('wantsToBeFriends', { name: displayName(users[r.fromUserId]) })}
              {r.message && <q>{r.message}</q>}
            </span>
            <button type="button" class="primary" onClick={() => void store.answer(r, true).catch((err) => store.fail(err))} {...named('accept')} />
            <button type="button" onClick={() => void store.answer(r, false).catch((err) => store.fail(err))} {...named('reject')} />
          </li>
        ))}
      </ul>
    </section>
  );
}

function FriendList() {
  const store = useStore();
  const friends = store.friends.value;
  const presence = store.presence.value;
  return (
    <ul class="friends" aria-label={label('friends')}>
      {friends.length === 0 && <li class="empty">{t('noFriends')}</li>}
      {friends.map((f) => (
        <li key={f.user.id}>
          <span class="name">
            <PresenceDot userId={f.user.id} /> {displayName(f.user)} <small>{presenceText(presence[f.user.id])}</small>
          </span>
          <button type="button" onClick={() => void store.chatWith(f.user.id).then((id) => navigate(chatPath(id)), (err) => store.fail(err))} {...named('message')} />
          <button
            type="button"
            class="link danger"
            onClick={() =>
              void store.block(f.user.id).then(
                () => store.notify(t('blocked', { name: displayName(f.user) }), 'info'),
                (err) => store.fail(err),
              )
            }
            {...named('block')}
          />
        </li>
      ))}
    </ul>
  );
}

function NewGroupButton() {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" class="primary" onClick={() => setOpen(true)} {...named('newGroup')} />
      {open && <NewGroupDialog onClose={() => setOpen(false)} />}
    </>
  );
}
