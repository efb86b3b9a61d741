import { useEffect, useRef } from 'react';
import type { LabView } from '../../lib/lab-view.ts';

const percent = (share: number) => `${Math.round(share * 100)}%`;

/**
 * Asks before a reset, saying what goes and what stays (as service.ts reset() does it: the run
 * ends, its cluster is deleted, the next run starts every step open on a new incident; the
 * workspace and the case notes are the learner's and stay). A native modal <dialog>: focus moves
 * to Cancel, Escape cancels, focus goes back to the button that opened it.
 */
export function ResetDialog({ lab, open, onCancel, onConfirm, returnFocus }: { lab: LabView; open: boolean; onCancel: () => void; onConfirm: () => void; returnFocus: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) {
      element.showModal();
      cancel.current?.focus();
    } else if (!open && element.open) {
      element.close();
    }
  }, [open]);
  const run = lab.run;
  const done = lab.steps.filter((s) => s.passed).length;
  return (
    <dialog
      ref={dialog}
      className="lab-dialog"
      aria-labelledby="reset-title"
      aria-describedby="reset-summary"
      // Escape (the browser's cancel) closes it; the close event puts focus back either way.
      onCancel={(event) => {
        event.preventDefault();
        onCancel();
      }}
      onClose={returnFocus}
    >
      <h2 id="reset-title">Reset this lab?</h2>
      <p id="reset-summary">You get a new cluster with a new incident and start this lab again from step 1.</p>
      <h3>Lost</h3>
      <ul>
        <li>
          Your cluster <code>{run?.cluster}</code> and everything in it: the incident as it is now and every change you made (labels, network policies,
          deletions).
        </li>
        <li>Your shell: it ends, with what is on its screen and anything running in it. A new shell opens on the new cluster.</li>
        <li>
          This run&apos;s progress here: {done} of {lab.steps.length} steps done, score {percent(lab.score)}, hints taken and answers given. The new run
          starts with every step open. This run stays on your progress page with its score.
        </li>
      </ul>
      <h3>Kept</h3>
      <ul>
        <li>The files in your workspace (your home directory): evidence you saved, audit-policy.yaml, your shell history file.</li>
        <li>Your case notes: they carry over to the new run.</li>
      </ul>
      <p className="muted">The new incident differs (names, addresses, identities): investigate the open steps again.</p>
      <div className="lab-dialog-actions">
        <button type="button" ref={cancel} onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className="danger" onClick={onConfirm}>
          Reset and start again
        </button>
      </div>
    </dialog>
  );
}
