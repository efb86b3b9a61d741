import { useEffect, useRef, useState } from 'react';
import { useLabStore } from '../../stores/lab-store.ts';
import { useEngineStore } from '../../stores/engine-store.ts';

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

/** The run's state and controls: start, reset, what the cluster is doing, the last error. */
export function RunBar() {
  const { lab, busy, error, act } = useLabStore();
  const engineBusy = useEngineStore((s) => s.busy); // the EngineStatus island polls and shows why
  const elapsed = useElapsed(busy === 'start' || busy === 'reset');
  const errorRef = useRef<HTMLParagraphElement>(null);
  useEffect(() => {
    if (error) errorRef.current?.focus();
  }, [error]);
  if (!lab) return null;
  const running = Boolean(lab.run);
  return (
    <div className="lab-runbar">
      <p className="lab-status" role="status">
        {busy === 'start'
          ? `Creating your cluster and seeding the incident… ${elapsed} s`
          : busy === 'reset'
            ? `Resetting… ${elapsed} s`
            : running
              ? `Your cluster ${lab.run!.cluster} is running (${lab.run!.provider}). Score: ${percent(lab.score)}`
              : 'Start the lab to get your own cluster with the incident in it.'}
      </p>
      {lab.run?.recovered && (
        <p className="lab-notice" role="status">
          Your cluster {lab.run.recovered.from} was lost ({lab.run.recovered.reason}) and a freshly seeded one took its place at{' '}
          {new Date(lab.run.recovered.at).toLocaleTimeString()}: steps done stay done; the incident is new, so investigate the open steps again.
        </p>
      )}
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
    </div>
  );
}
