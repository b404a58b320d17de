/** Checkboxes of people (friends to add to a group), named by the person. */
import { t } from '../i18n.ts';

export function FriendPicker({ candidates, chosen, onChange }: { candidates: Array<{ id: string; name: string }>; chosen: Set<string>; onChange: (next: Set<string>) => void }) {
  return (
    <fieldset class="picker">
      <legend>{t('chooseMembers')}</legend>
      {candidates.length === 0 && <p class="empty">{t('noFriends')}</p>}
      {candidates.map((c) => (
        <label key={c.id} class="check">
          <input
            type="checkbox"
            checked={chosen.has(c.id)}
            onChange={(e) => {
              const next = new Set(chosen);
              if (e.currentTarget.checked) next.add(c.id);
              else next.delete(c.id);
              onChange(next);
            }}
          />
          {c.name}
        </label>
      ))}
    </fieldset>
  );
}
