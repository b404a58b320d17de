/**
 * A menu button (WAI-ARIA APG "menu button"): the trigger has aria-haspopup
 * and aria-expanded; the menu's items are role="menuitem", reached with the
 * arrow keys, Home and End; Escape closes and gives focus back to the trigger.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

export interface MenuItem {
  /** The accessible name (English, the contract) and the visible text. */
  label: string;
  text: ComponentChildren;
  /** Keep the menu open after choosing (e.g. to show a sub-list in place). */
  keepOpen?: boolean;
  onSelect: () => void;
}

export function MenuButton({ label, text, items, class: cls }: { label: string; text: ComponentChildren; items: MenuItem[]; class?: string }) {
  const [open, setOpen] = useState(false);
  const trigger = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);

  const focusItem = (i: number) => {
    const buttons = [...(menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
    if (buttons.length) buttons[(i + buttons.length) % buttons.length]!.focus();
  };
  const close = (refocus: boolean) => {
    setOpen(false);
    if (refocus) trigger.current?.focus();
  };

  useEffect(() => {
    if (!open) return;
    focusItem(0);
    const outside = (e: PointerEvent) => {
      if (!menu.current?.contains(e.target as Node) && !trigger.current?.contains(e.target as Node)) close(false);
    };
    document.addEventListener('pointerdown', outside);
    return () => document.removeEventListener('pointerdown', outside);
  }, [open, items.length, items[0]?.label]);

  const onKeyDown = (e: KeyboardEvent) => {
    const buttons = [...(menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
    const at = buttons.indexOf(document.activeElement as HTMLElement);
    const keys: Record<string, () => void> = {
      ArrowDown: () => focusItem(at + 1),
      ArrowUp: () => focusItem(at - 1),
      Home: () => focusItem(0),
      End: () => focusItem(buttons.length - 1),
      Escape: () => close(true),
      Tab: () => close(false),
    };
    const run = keys[e.key];
    if (!run) return;
    if (e.key !== 'Tab') e.preventDefault();
    run();
  };

  return (
    <div class={`menu-wrap ${cls ?? ''}`}>
      <button
        ref={trigger}
        type="button"
        class="menu-trigger"
        aria-label={label}
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') (e.preventDefault(), setOpen(true));
        }}
      >
        {text}
      </button>
      {open && (
        <div ref={menu} class="menu" role="menu" aria-label={label} onKeyDown={onKeyDown}>
          {items.map((item) => (
            <button
              key={item.label}
              type="button"
              role="menuitem"
              tabIndex={-1}
              aria-label={item.label}
              onClick={() => {
                if (!item.keepOpen) close(true);
                item.onSelect();
              }}
            >
              {item.text}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
