import { useCallback, useEffect, useRef, useState } from 'react';
import { useLabStore } from '../../stores/lab-store.ts';
import { useEngineStore } from '../../stores/engine-store.ts';
import { ResetDialog } from './ResetDialog.tsx';
import { RunTimer } from './RunTimer.tsx';
import '../../styles/lab-run.css';

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

/**
 * The run's state and controls: start, the time left and Extend, what the cluster is doing, the
 * last error, and Reset last of all, behind a dialog that says what it costs.
 */
export function RunBar() {
  const { lab, busy, error, act, restart, load, slug } = useLabStore();
  const engineBusy = useEngineStore((s) => s.busy); // the EngineStatus island polls and shows why
  const elapsed = useElapsed(busy === 'start' || busy === 'reset');
  const errorRef = useRef<HTMLParagraphElement>(null);
  const resetButton = useRef<HTMLButtonElement>(null);
  const [confirming, setConfirming] = useState(false);
  useEffect(() => {
    if (error) errorRef.current?.focus();
  }, [error]);
  // The deadline passed: the server ends the run on this very request and says so.
  const onExpired = useCallback(() => void load(slug), [load, slug]);
  if (!lab) return null;
  const running = Boolean(lab.run);
  // A lab this server cannot run (a kind lab on the embedded engine): Start is off, the reason in view.
  const cannotStart = running ? undefined : lab.engine.unavailable;
  return (
    <div className="lab-runbar">
      <p className="lab-status" role="status" id="lab-run-status">
        {busy === 'start'
          ? `Creating your cluster and seeding the incident… ${elapsed} s`
          : busy === 'reset'
            ? `Resetting… ${elapsed} s`
            : running
              ? `Your cluster ${lab.run!.cluster} is running (${lab.run!.provider}). Score: ${percent(lab.score)}`
              : cannotStart
                ? `This lab cannot start on this server: it ${cannotStart.reason}. "${lab.engine.badge}" above says what that means and what an operator can do.`
                : 'Start the lab to get your own cluster with the incident in it.'}
      </p>
      {!running && lab.expired && (
        <p className="lab-notice">
          Your last run reached its time limit at {new Date(lab.expired.at).toLocaleTimeString()} and its cluster was given back. Its score ({percent(lab.expired.score)}) is
          kept on <a href="/progress">your progress page</a>, and your case notes and workspace files are kept. Start the lab again for a new cluster.
        </p>
      )}
      {lab.run?.recovered && (
        <p className="lab-notice" role="status">
          Your cluster {lab.run.recovered.from} was lost ({lab.run.recovered.reason}) and a freshly seeded one took its place at{' '}
          {new Date(lab.run.recovered.at).toLocaleTimeString()}: steps done stay done; the incident is new, so investigate the open steps again.
        </p>
      )}
      <div className="lab-controls">
        {!running && (
          <button
            type="button"
            className="primary"
            disabled={Boolean(busy) || engineBusy || Boolean(cannotStart)}
            aria-describedby={cannotStart ? 'lab-run-status' : undefined}
            onClick={() => act('start')}
          >
            Start the lab
          </button>
        )}
        {running && <RunTimer run={lab.run!} busy={Boolean(busy)} onExtend={() => void act('extend')} onExpired={onExpired} />}
        {running && (
          <button type="button" ref={resetButton} className="lab-reset" disabled={Boolean(busy)} onClick={() => setConfirming(true)}>
            Reset…
          </button>
        )}
      </div>
      {running && (
        <ResetDialog
          lab={lab}
          open={confirming}
          onCancel={() => setConfirming(false)}
          onConfirm={() => {
            setConfirming(false);
            void restart();
          }}
          returnFocus={() => resetButton.current?.focus()}
        />
      )}
      {error && (
        <p className="lab-error" role="alert" tabIndex={-1} ref={errorRef}>
          {error}
        </p>
      )}
    </div>
  );
}
