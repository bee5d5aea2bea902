// The window's keys beyond Tab: Enter goes on to the one obvious next step, Escape goes back or
// closes. Controls keep their own meaning: Enter presses a button, submits a form from a text
// field or picks in a search list; Escape clears a search field or closes an open drop-down.

/** Enter or Escape alone (no modifier, not while an input method composes, not yet handled). */
export function plainKey(e: KeyboardEvent, key: 'Enter' | 'Escape'): boolean {
  return (
    e.key === key &&
    !e.defaultPrevented &&
    !e.isComposing &&
    !e.altKey &&
    !e.ctrlKey &&
    !e.metaKey &&
    !e.shiftKey
  );
}

const OWN_ENTER = 'button, a[href], input, select, textarea, summary, [contenteditable="true"]';
const TEXT_INPUT_TYPES = new Set(['checkbox', 'radio', 'button', 'submit', 'reset', 'range']);

/** Whether Enter on `target` already does something (a control has focus). */
export function ownsEnter(target: EventTarget | null): boolean {
  return target instanceof Element && target.closest(OWN_ENTER) !== null;
}

/** Whether Escape on `target` belongs to it: text being typed, a drop-down. Buttons don't. */
export function ownsEscape(target: EventTarget | null): boolean {
  if (!(target instanceof Element)) return false;
  if (target.closest('textarea, select, [contenteditable="true"]')) return true;
  return target instanceof HTMLInputElement && !TEXT_INPUT_TYPES.has(target.type);
}

/** Moves the keyboard focus to the element with this id, once it is on screen and enabled. */
export function focusById(id: string) {
  const el = document.getElementById(id);
  if (el && !(el instanceof HTMLButtonElement && el.disabled)) el.focus();
}

/**
 * A form opened from a button: `close` (Cancel, or Escape in any of its fields: `onkeydown`)
 * runs `onclose` and puts the focus back on that button. Call it while the form is being created,
 * when the button still has the focus.
 */
export function openedFromButton(onclose: () => void) {
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  function close() {
    onclose();
    opener?.focus();
  }
  function onkeydown(e: KeyboardEvent) {
    if (plainKey(e, 'Escape')) {
      e.preventDefault();
      close();
    }
  }
  return { close, onkeydown };
}
