import type { LabView } from '../../lib/lab-view.ts';

/** Shown once every step has passed: how it went, and what to do next. */
export function Completion({ lab }: { lab: LabView }) {
  if (!lab.steps.every((s) => s.passed)) return null;
  return (
    <section className="lab-completion" aria-label="Lab complete">
      <h2>Lab complete</h2>
    </section>
  );
}
