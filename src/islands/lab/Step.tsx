import type { StepView } from '../../lib/lab-view.ts';
import { useLabStore } from '../../stores/lab-store.ts';
import { RichHtml } from './RichHtml.tsx';
import { StepFeedback } from './StepFeedback.tsx';
import { stepStatus } from './step-status.ts';

const percent = (share: number) => `${Math.round(share * 100)}%`;

export interface StepProps {
  step: StepView;
  index: number;
  /** Steps in the lab (for the previous/next buttons). */
  count: number;
  running: boolean;
  /** Expanded: the step the learner is on. */
  open: boolean;
  onToggle: () => void;
  /** Opens the step at this index (previous/next). */
  onGo: (index: number) => void;
  /** Titles of the neighbours, for the previous/next buttons. */
  previous?: string;
  next?: string;
}

/**
 * One lab step as a disclosure: its heading (number, title, state) is the button; open, it shows
 * the instructions, questions, Check, the latest check's feedback, hints and previous/next.
 */
export function Step({ step, index, count, running, open, onToggle, onGo, previous, next }: StepProps) {
  const { busy, act, drafts, setDraft } = useLabStore();
  const checking = busy === `check:${step.id}`;
  const status = stepStatus(step);
  const bodyId = `step-${step.id}-body`;
  return (
    <li className={`lab-step state-${status.state}${step.passed ? ' passed' : ''}${open ? ' open' : ''}`} id={`step-${step.id}`}>
      <h3 className="step-heading">
        <button type="button" className="step-toggle" id={`step-${step.id}-toggle`} aria-expanded={open} aria-controls={bodyId} onClick={onToggle}>
          <span className="step-chevron" aria-hidden="true" />
          <span className="step-number">{index + 1}.</span> <span className="step-title">{step.title}</span>{' '}
          <span className="step-state">{status.label}</span>
          {status.latestFailed && <span className="step-state-latest"> (latest check failed)</span>}
        </button>
      </h3>
      <div className="step-content" id={bodyId} hidden={!open}>
        <RichHtml className="step-body" html={step.bodyHtml} running={running} />
        {step.questions.length > 0 && (
          <fieldset className="lab-questions">
            <legend>Your findings</legend>
            {step.questions.map((q) => (
              <label key={q.id}>
                <span>{q.prompt}</span>
                <input
                  type="text"
                  name={q.id}
                  value={drafts[q.id] ?? ''}
                  placeholder={q.placeholder}
                  onChange={(e) => setDraft(q.id, e.target.value)}
                  disabled={!running}
                  autoComplete="off"
                  spellCheck={false}
                />
              </label>
            ))}
          </fieldset>
        )}
        <div className="step-actions">
          <button
            type="button"
            disabled={!running || Boolean(busy)}
            onClick={() =>
              act('check', { step: step.id, answers: Object.fromEntries(step.questions.map((q) => [q.id, drafts[q.id] ?? ''])) }, `check:${step.id}`)
            }
          >
            {checking ? 'Checking…' : `Check step ${index + 1}`}
          </button>
          {step.canApplyPolicy && (
            <button type="button" disabled={!running || Boolean(busy)} onClick={() => act('apply-policy', {}, `apply:${step.id}`)}>
              {busy === `apply:${step.id}` ? 'Restarting the API server…' : 'Apply audit-policy.yaml'}
            </button>
          )}
          <span className="muted">
            Score {percent(step.score)}
            {status.latestFailed ? ' (best check kept)' : ''}
          </span>
          {step.retry && !step.passed && (
            <span className="muted check-cost" data-testid={`check-cost-${step.id}`}>
              {step.retry.nextCost > 0
                ? `next check costs ${percent(step.retry.nextCost)} of this step`
                : step.retry.freeLeft > 0
                  ? `${step.retry.freeLeft} free check${step.retry.freeLeft === 1 ? '' : 's'} left, then each costs ${percent(step.retry.cost)}`
                  : 'further checks are free: retries have taken all they can'}
            </span>
          )}
        </div>
        <StepFeedback step={step} />
        {step.hints.length > 0 && (
          <details className="hints">
            <summary>
              Hints ({step.hints.filter((h) => h.text !== undefined).length} of {step.hints.length} taken)
            </summary>
            <ol>
              {step.hints.map((hint) => (
                <li key={hint.index}>
                  {hint.html !== undefined ? (
                    <RichHtml className="hint-body" html={hint.html} running={running} />
                  ) : hint.text !== undefined ? (
                    <span>{hint.text}</span>
                  ) : (
                    <button type="button" disabled={!running || Boolean(busy)} onClick={() => act('hint', { step: step.id, index: hint.index }, `hint:${step.id}`)}>
                      Show hint {hint.index + 1} (costs {percent(hint.cost)} of this step)
                    </button>
                  )}
                </li>
              ))}
            </ol>
          </details>
        )}
        {count > 1 && (
          <div className="step-nav">
            {index > 0 && (
              <button type="button" className="step-prev" onClick={() => onGo(index - 1)}>
                ← Previous step: {previous}
              </button>
            )}
            {index < count - 1 && (
              <button type="button" className="step-next" onClick={() => onGo(index + 1)}>
                Next step: {next} →
              </button>
            )}
          </div>
        )}
      </div>
    </li>
  );
}
