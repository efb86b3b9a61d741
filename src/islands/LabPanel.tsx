import { lazy, Suspense, useEffect, useRef, useState } from 'react';
import type { StepView } from '../lib/lab-view.ts';
import { useLabStore } from '../stores/lab-store.ts';
import { useEngineStore } from '../stores/engine-store.ts';

// The terminal (xterm.js, most of the page's weight) and the query panel (parser, evaluator) load
// only when shown: the terminal once the lab runs, the query panel once its section is opened.
const loadTerminal = () => import('./Terminal.tsx');
const Terminal = lazy(loadTerminal);
const QueryPanel = lazy(() => import('./QueryPanel.tsx'));

const percent = (share: number) => `${Math.round(share * 100)}%`;

/** Seconds since a request started, so a slow start shows it is alive. */
function useElapsed(active: boolean): number {
  const [seconds, setSeconds] = useState(0);
  useEffect(() => {
    if (!active) return setSeconds(0);
    const started = Date.now();
    const timer = setInterval(() => setSeconds(Math.floor((Date.now() - started) / 1000)), 500);
    return () => clearInterval(timer);
  }, [active]);
  return seconds;
}

function Step({ step, index, running }: { step: StepView; index: number; running: boolean }) {
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

/** The lab beside the lesson: start your cluster, work the steps, check each one. */
export default function LabPanel({ slug }: { slug: string }) {
  const { lab, busy, error, load, act } = useLabStore();
  const engineBusy = useEngineStore((s) => s.busy); // the EngineStatus island polls and shows why
  const elapsed = useElapsed(busy === 'start' || busy === 'reset');
  const errorRef = useRef<HTMLParagraphElement>(null);
  const [queryOpened, setQueryOpened] = useState(false);
  useEffect(() => {
    void load(slug);
  }, [slug, load]);
  // Fetch the terminal's code while the cluster is being made, so it is there when the lab runs.
  useEffect(() => {
    if (busy === 'start' || busy === 'reset') void loadTerminal().catch(() => {});
  }, [busy]);
  useEffect(() => {
    if (error) errorRef.current?.focus();
  }, [error]);

  if (!lab) return <p className="muted">{error ?? 'Loading the lab…'}</p>;
  const running = Boolean(lab.run);
  return (
    <section className="lab-panel" aria-labelledby="lab-panel-title">
      <header className="lab-header">
        <h2 id="lab-panel-title">{lab.title}</h2>
        <p>{lab.summary}</p>
        <p className="lab-status" role="status">
          {busy === 'start'
            ? `Creating your cluster and seeding the incident… ${elapsed} s`
            : busy === 'reset'
              ? `Resetting… ${elapsed} s`
              : running
                ? `Your cluster ${lab.run!.cluster} is running (${lab.run!.provider}). Score: ${percent(lab.score)}`
                : 'Start the lab to get your own cluster with the incident in it.'}
        </p>
        {lab.run?.recovered && <p className="lab-notice" role="status">Your cluster {lab.run.recovered.from} was lost ({lab.run.recovered.reason}) and a freshly seeded one took its place at {new Date(lab.run.recovered.at).toLocaleTimeString()}: steps done stay done; the incident is new, so investigate the open steps again.</p>}
        <div className="lab-controls">
          {!running && (
            <button type="button" className="primary" disabled={Boolean(busy) || engineBusy} onClick={() => act('start')}>
              Start the lab
            </button>
          )}
          {running && (
            <button type="button" disabled={Boolean(busy)} onClick={() => act('reset')}>
              Reset (new cluster)
            </button>
          )}
        </div>
        {error && (
          <p className="lab-error" role="alert" tabIndex={-1} ref={errorRef}>
            {error}
          </p>
        )}
      </header>
      <div className="lab-layout">
        <ol className="lab-steps">
          {lab.steps.map((step, index) => (
            <Step key={step.id} step={step} index={index} running={running} />
          ))}
        </ol>
        <div className="lab-workbench">
          {running ? (
            <>
              <Suspense fallback={<p className="muted">Loading the terminal…</p>}>
                {/* Keyed by cluster: after a reset the shell reconnects to the new cluster. */}
                <Terminal key={lab.run!.cluster} label={`Shell for ${lab.title}`} />
              </Suspense>
              <details className="lab-query" onToggle={(e) => e.currentTarget.open && setQueryOpened(true)}>
                <summary>Query your cluster's audit log</summary>
                {queryOpened && (
                  <Suspense fallback={<p className="muted">Loading the query panel…</p>}>
                    <QueryPanel key={`q-${lab.run!.cluster}`} source="lab" initialQuery={'user.username == "system:serviceaccount:*" AND objectRef.resource == "secrets" | count by user.username'} />
                  </Suspense>
                )}
              </details>
            </>
          ) : (
            <p className="muted">Your terminal appears here once the lab has started.</p>
          )}
        </div>
      </div>
    </section>
  );
}
