import type { DashboardLearner, DashboardView, LabCell, StepCell } from '../../lib/class-view.ts';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function StepFigure({ step }: { step: StepCell }) {
  return (
    <td className={`class-step class-step-${step.status.replace(' ', '-')}`} data-step={step.step} data-status={step.status}>
      <span className="class-status">{step.status}</span>
      <span className="class-figures">
        {step.scorePercent}% · {step.minutes} min · {plural(step.hints, 'hint')} · {plural(step.checks, 'check')}
      </span>
    </td>
  );
}

function LabCells({ lab }: { lab: LabCell }) {
  return (
    <>
      {lab.steps.map((step) => (
        <StepFigure key={`${lab.slug}/${step.step}`} step={step} />
      ))}
    </>
  );
}

/** One row per learner: stuck flag, each assigned lab step, each quiz, and what the instructor can do. */
export function DashboardTable({ view, watching, onWatch, onMessage }: { view: DashboardView; watching: string | null; onWatch: (learner: DashboardLearner | null) => void; onMessage: (learner: DashboardLearner) => void }) {
  const labs = view.learners[0]?.labs ?? [];
  const quizzes = view.learners[0]?.quizzes ?? [];
  if (view.learners.length === 0) return <p className="muted" data-testid="class-empty">Nobody has joined yet. Share the join code or link above.</p>;
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-label="Learners and their progress">
      <table className="class-dashboard" data-testid="class-dashboard">
        <caption className="visually-hidden">Per learner: each assigned lab step (status, score, minutes, hints, checks) and each quiz</caption>
        <thead>
          <tr>
            <th scope="col" rowSpan={2}>Learner</th>
            {labs.map((lab) => (
              <th scope="colgroup" colSpan={lab.steps.length} key={lab.slug}>{lab.title}</th>
            ))}
            {quizzes.map((quiz) => (
              <th scope="col" rowSpan={2} key={quiz.slug}>{quiz.title}</th>
            ))}
            <th scope="col" rowSpan={2}>Actions</th>
          </tr>
          <tr>
            {labs.flatMap((lab) => lab.steps.map((step) => <th scope="col" key={`${lab.slug}/${step.step}`}>{step.title}</th>))}
          </tr>
        </thead>
        <tbody>
          {view.learners.map((learner) => (
            <tr key={learner.id} data-learner={learner.name} data-stuck={learner.stuck ? 'yes' : 'no'} className={learner.stuck ? 'class-stuck' : undefined}>
              <th scope="row">
                {learner.name}
                {learner.stuck && (
                  <span className="class-stuck-badge" data-testid="stuck-badge">
                    Stuck on {learner.stuck.stepTitle} for {learner.stuck.minutes} min
                  </span>
                )}
              </th>
              {learner.labs.map((lab) => (
                <LabCells key={lab.slug} lab={lab} />
              ))}
              {learner.quizzes.map((quiz) => (
                <td key={quiz.slug} data-quiz={quiz.slug} data-status={quiz.status}>
                  <span className="class-status">{quiz.status}</span>
                  {quiz.scorePercent !== null && <span className="class-figures">{quiz.scorePercent}%</span>}
                </td>
              ))}
              <td className="class-actions">
                {learner.watchable && (
                  <button type="button" aria-pressed={watching === learner.id} onClick={() => onWatch(watching === learner.id ? null : learner)}>
                    {watching === learner.id ? `Stop watching ${learner.name}` : `Watch ${learner.name}'s terminal`}
                  </button>
                )}
                <button type="button" onClick={() => onMessage(learner)}>
                  Message {learner.name}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
