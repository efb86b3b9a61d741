import { useEffect, useRef, type KeyboardEvent } from 'react';
import { SHORTCUTS } from './workspace-keys.ts';

/** Tab and Shift+Tab cycle inside the dialog: `showModal` makes the page inert, but Tab would still leave for the browser's own controls. */
function trapTab(event: KeyboardEvent<HTMLDialogElement>) {
  if (event.key !== 'Tab') return;
  const focusable = [...event.currentTarget.querySelectorAll<HTMLElement>('a[href], button:not([disabled]), input, [tabindex]:not([tabindex="-1"])')];
  const first = focusable[0];
  const last = focusable[focusable.length - 1];
  if (!first || !last) return event.preventDefault();
  if (event.shiftKey && document.activeElement === first) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
}

/**
 * The workspace's keyboard help: a modal dialog (the native `<dialog>`: `showModal` makes the page
 * behind it inert and Escape closes it; Tab cycles inside). Focus goes back to where it was, the
 * terminal included.
 */
export function ShortcutHelp({ open, onClose }: { open: boolean; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const returnTo = useRef<HTMLElement | null>(null);
  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) {
      returnTo.current = document.activeElement as HTMLElement | null;
      element.showModal();
    } else if (!open && element.open) element.close();
  }, [open]);
  return (
    <dialog
      ref={dialog}
      className="lab-help"
      aria-labelledby="lab-help-title"
      onKeyDown={trapTab}
      onClose={() => {
        onClose();
        returnTo.current?.focus();
        returnTo.current = null;
      }}
    >
      <h2 id="lab-help-title">Keyboard shortcuts</h2>
      <p>These work everywhere on this page, inside the terminal too.</p>
      <table>
        <thead>
          <tr>
            <th scope="col">Keys</th>
            <th scope="col">What they do</th>
          </tr>
        </thead>
        <tbody>
          {SHORTCUTS.map(({ keys, what }) => (
            <tr key={what}>
              <td>
                <kbd>{keys}</kbd>
              </td>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Copy and paste</h3>
      <p>
        In the terminal, Ctrl+C stops the running command and Ctrl+V is the shell’s own key, so paste with <kbd>Ctrl+Shift+V</kbd> or a right click → Paste; copy by selecting text, then right click → Copy. “Run in terminal” on a command in a step types it into
        Terminal for you.
      </p>
      <form method="dialog">
        <button type="submit" autoFocus>
          Close
        </button>
      </form>
    </dialog>
  );
}
