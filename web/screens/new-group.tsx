/** "New group": a name and friends to add; the creator is its owner. */
import { useState } from 'preact/hooks';
import { label, named, t } from '../i18n.ts';
import { chatPath, navigate } from '../router.ts';
import { displayName } from '../state/conversations.ts';
import { useStore } from '../store-context.ts';
import { Dialog } from '../components/dialog.tsx';
import { FriendPicker } from '../components/friend-picker.tsx';

export function NewGroupDialog({ onClose }: { onClose: () => void }) {
  const store = useStore();
  const [name, setName] = useState('');
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [busy, setBusy] = useState(false);
  return (
    <Dialog title={t('newGroup')} onClose={onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setBusy(true);
          store
            .createGroup(name.trim(), [...chosen])
            .then((id) => {
              onClose();
              navigate(chatPath(id));
            })
            .catch((err) => {
              setBusy(false);
              store.fail(err);
            });
        }}
      >
        <label>
          {t('groupName')}
          <input aria-label={label('groupName')} required maxLength={64} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <FriendPicker candidates={store.friends.value.map((f) => ({ id: f.user.id, name: displayName(f.user) }))} chosen={chosen} onChange={setChosen} />
        <div class="actions">
          <button type="button" onClick={onClose} {...named('cancel')} />
          <button type="submit" class="primary" disabled={busy || !name.trim()} {...named('create')} />
        </div>
      </form>
    </Dialog>
  );
}
