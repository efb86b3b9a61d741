import type { StepView } from '../../lib/lab-view.ts';
import { stepStatus } from './step-status.ts';

const WORDS = { done: 'done', failing: 'failing', unchecked: 'not checked' } as const;

/** Every step at a glance: done, failing or not checked, the current one marked; each opens its step. */
export function StepRail({ steps, current, onGo }: { steps: readonly StepView[]; current: string | undefined; onGo: (id: string) => void }) {
  const done = steps.filter((s) => s.passed).length;
  return (
    <nav className="step-rail" aria-label="Steps">
      <p className="step-rail-count">
        {done} of {steps.length} steps done
      </p>
      <ol>
        {steps.map((step, index) => {
          const { state } = stepStatus(step);
          const isCurrent = step.id === current;
          return (
            <li key={step.id} className={`rail-${state}${isCurrent ? ' rail-current' : ''}`} data-state={state}>
              <button
                type="button"
                aria-current={isCurrent ? 'step' : undefined}
                aria-label={`Step ${index + 1}: ${step.title}, ${WORDS[state]}${isCurrent ? ', current' : ''}`}
                title={`${step.title} (${WORDS[state]})`}
                onClick={() => onGo(step.id)}
              >
                <span aria-hidden="true">{state === 'done' ? '✓' : state === 'failing' ? '✗' : index + 1}</span>
              </button>
            </li>
          );
        })}
      </ol>
    </nav>
  );
}
