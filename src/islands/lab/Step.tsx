import type { StepView } from '../../lib/lab-view.ts';
import { useLabStore } from '../../stores/lab-store.ts';

const percent = (share: number) => `${Math.round(share * 100)}%`;

/** One step of a lab: its instructions, questions, Check, hints and the last check's criteria. */
export function Step({ step, index, running }: { step: StepView; index: number; running: boolean }) {
  const { busy, act, drafts, setDraft } = useLabStore();
  const checking = busy === `check:${step.id}`;
  const result = step.result;
  return (
    <li className={`lab-step${step.passed ? ' passed' : ''}`} id={`step-${step.id}`}>
      <h3>
        <span className="step-number">{index + 1}.</span> {step.title}{' '}
        <span className="step-state">{step.passed ? '✓ done' : result ? '✗ not yet' : ''}</span>
      </h3>
      <div className="step-body" dangerouslySetInnerHTML={{ __html: step.bodyHtml }} />
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
        <span className="muted">Score {percent(step.score)}</span>
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
      <div aria-live="polite" className="step-result">
        {result && (
          <ul className="criteria">
            {result.criteria.map((c) => (
              <li key={c.id} className={c.passed ? 'ok' : 'missing'}>
                <span aria-hidden="true">{c.passed ? '✓' : '✗'}</span>
                <span className="visually-hidden">{c.passed ? 'Passed:' : 'Not yet:'}</span> {c.message}
              </li>
            ))}
          </ul>
        )}
      </div>
      {step.hints.length > 0 && (
        <details className="hints">
          <summary>Hints ({step.hints.length})</summary>
          <ol>
            {step.hints.map((hint) => (
              <li key={hint.index}>
                {hint.text ? (
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
    </li>
  );
}

