import type { CheckCriterion } from '../../lib/check-result.ts';
import { sameMessageOnce, summariseMessage } from '../../lib/criterion-summary.ts';
import type { StepView } from '../../lib/lab-view.ts';
import { stepStatus } from './step-status.ts';

/** A message as one line, the whole of it behind a disclosure when there is more. */
function Folded({ message }: { message: string }) {
  const { line, details } = summariseMessage(message);
  if (!details) return <span className="criterion-text">{line}</span>;
  return (
    <details className="criterion-details">
      <summary>{line}</summary>
      <p>{details}</p>
    </details>
  );
}

/** `count`: how many criteria say this (shown once: see sameMessageOnce). */
function Criterion({ criterion, count = 1 }: { criterion: CheckCriterion; count?: number }) {
  return (
    <li className={criterion.passed ? 'ok' : 'missing'}>
      <span className="mark" aria-hidden="true">
        {criterion.passed ? '✓' : '✗'}
      </span>
      <span className="visually-hidden">{criterion.passed ? 'Passed:' : 'Not yet:'}</span> <Folded message={criterion.message} />
      {count > 1 && <span className="criterion-count"> ({count} criteria)</span>}
    </li>
  );
}

const time = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });

/**
 * The latest check of a step, folded: failing criteria first (one line each, details on
 * demand), warnings always visible, passed ones summarised. The verdict line is the live region,
 * so a screen reader hears one sentence per check, not the whole list.
 */
export function StepFeedback({ step }: { step: StepView }) {
  const result = step.result;
  const status = stepStatus(step);
  const failing = result?.criteria.filter((c) => !c.passed) ?? [];
  const passed = result?.criteria.filter((c) => c.passed) ?? [];
  const warnings = result?.criteria.filter((c) => c.warning) ?? [];
  const met = `${passed.length} of ${passed.length + failing.length} criteria met`;
  return (
    <div className="step-result">
      <p className="step-verdict" aria-live="polite">
        {result &&
          (status.latestFailed
            ? `Passed earlier: this step stays done and its best score is kept. Your latest check did not pass (${time(result.checkedAt)}): ${met}.`
            : result.passed
              ? `Checked at ${time(result.checkedAt)}: passed, ${met}.`
              : `Checked at ${time(result.checkedAt)}: not yet, ${met}.`)}
      </p>
      {result && (
        <ul className="criteria">
          {sameMessageOnce(failing).map(({ first, count }) => (
            <Criterion key={first.id} criterion={first} count={count} />
          ))}
          {warnings.map((c) => (
            <li key={`${c.id}-warning`} className="warning">
              <span className="mark" aria-hidden="true">
                ⚠
              </span>
              <span className="visually-hidden">Warning:</span> <Folded message={c.warning!} />
            </li>
          ))}
          {passed.length > 0 && (
            <li className="passed-summary">
              <details>
                <summary>
                  <span className="mark" aria-hidden="true">
                    ✓
                  </span>{' '}
                  {passed.length} passed
                </summary>
                <ul className="criteria-passed">
                  {passed.map((c) => (
                    <Criterion key={c.id} criterion={c} />
                  ))}
                </ul>
              </details>
            </li>
          )}
        </ul>
      )}
    </div>
  );
}
