import { useEffect, useRef, useState } from 'react';
import type { LabView } from '../../lib/lab-view.ts';

const percent = (share: number) => `${Math.round(share * 100)}%`;

/** "1 h 04 min", "12 min 30 s": how long a run took. */
export function duration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`;
  return m > 0 ? `${m} min ${s} s` : `${s} s`;
}

/**
 * Shown once every step has passed: the score of each step, the time, hints taken and checks
 * pressed, and what to do next (the lesson's quiz, another lab, the lesson). Focus moves to it
 * once, when the lab becomes complete on this page (not when a complete lab is reopened); it can
 * be put away and shown again.
 */
export function Completion({ lab }: { lab: LabView }) {
  const completion = lab.completion;
  const [dismissed, setDismissed] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  const reopen = useRef<HTMLButtonElement>(null);
  // Undefined until the first view arrived: a lab already complete on load takes no focus.
  const wasComplete = useRef<boolean | undefined>(undefined);
  useEffect(() => {
    const complete = Boolean(completion);
    if (wasComplete.current === false && complete) {
      setDismissed(false);
      // After the render that shows it.
      requestAnimationFrame(() => heading.current?.focus());
    }
    wasComplete.current = complete;
  }, [completion]);
  if (!completion) return null;
  if (dismissed) {
    return (
      <p className="lab-completion-reopen">
        <button type="button" ref={reopen} onClick={() => (setDismissed(false), requestAnimationFrame(() => heading.current?.focus()))}>
          Show your lab results
        </button>
      </p>
    );
  }
  const { next } = lab;
  return (
    <section className="lab-completion" aria-labelledby="lab-completion-title">
      <h2 id="lab-completion-title" tabIndex={-1} ref={heading}>
        Lab complete: score {percent(lab.score)}
      </h2>
      <dl className="lab-completion-facts">
        <div>
          <dt>Time</dt>
          <dd>{duration(completion.seconds)}</dd>
        </div>
        <div>
          <dt>Hints used</dt>
          <dd>{completion.hintsUsed}</dd>
        </div>
        <div>
          <dt>Checks pressed</dt>
          <dd>{completion.checks}</dd>
        </div>
      </dl>
      <table className="lab-completion-steps">
        <caption>Score by step</caption>
        <thead>
          <tr>
            <th scope="col">Step</th>
            <th scope="col">Score</th>
          </tr>
        </thead>
        <tbody>
          {lab.steps.map((step, index) => (
            <tr key={step.id}>
              <th scope="row">
                {index + 1}. {step.title}
              </th>
              <td>{percent(step.score)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {next && (
        <nav aria-label="What next">
          <h3>Next</h3>
          <ul>
            {next.quiz && (
              <li>
                Test yourself: <a href={next.quiz.href}>{next.quiz.title}</a> (the lesson&apos;s quiz)
              </li>
            )}
            {next.lab && (
              <li>
                Another lab: <a href={next.lab.href}>{next.lab.title}</a>
              </li>
            )}
            <li>
              Back to the lesson: <a href={next.lesson.href}>{next.lesson.title}</a>
            </li>
            <li>
              <a href="/progress">Your progress</a>
            </li>
          </ul>
        </nav>
      )}
      <button
        type="button"
        onClick={() => {
          setDismissed(true);
          requestAnimationFrame(() => reopen.current?.focus());
        }}
      >
        Close results
      </button>
    </section>
  );
}
