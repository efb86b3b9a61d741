import { useEffect, useRef } from 'react';
import { formatSeconds } from '../lib/engine-status.ts';
import { useEngineStore } from '../stores/engine-store.ts';

/**
 * The cluster engine's progress on lab and terminal pages: nothing once it is ready; while it is
 * built (a first start builds it in the background, about 10 min), a bar, what is being built and
 * the time left; if the build failed, what failed and how to fix it. `reloadWhenReady` (the
 * terminal page) reloads once the build is done, so the shell reconnects with a cluster.
 */
export default function EngineStatus({ reloadWhenReady = false }: { reloadWhenReady?: boolean }) {
  const { status, watch } = useEngineStore();
  const wasBusy = useRef(false);
  useEffect(() => watch(), [watch]);
  useEffect(() => {
    if (!status) return;
    if (status.state === 'ready' && wasBusy.current && reloadWhenReady) window.location.reload();
    wasBusy.current = status.state === 'checking' || status.state === 'waiting' || status.state === 'building';
  }, [status, reloadWhenReady]);

  if (!status || status.state === 'ready' || status.state === 'checking') return null;
  if (status.state === 'failed' || status.state === 'missing') {
    return (
      <div className="engine-status failed" role="alert" data-testid="engine-status">
        <strong>{status.state === 'failed' ? `Building the cluster engine failed at "${status.what}".` : 'The cluster engine is missing.'}</strong>{' '}
        {status.message}
        <br />
        <span className="muted">{status.hint}</span>
      </div>
    );
  }
  const building = status.state === 'building';
  return (
    <div className="engine-status" role="status" aria-live="polite" data-testid="engine-status">
      <strong>Preparing the cluster engine (first start)</strong>
      <progress max={1} value={building ? status.fraction : undefined} aria-label="Engine build progress" />
      <span>
        {building
          ? `Step ${status.step}/${status.steps}: ${status.what}. ${formatSeconds(status.elapsedSeconds)} so far, about ${formatSeconds(status.remainingSeconds)} left.`
          : `${status.message}; waiting for it (${formatSeconds(status.elapsedSeconds)}).`}
      </span>
      <span className="muted">Labs and terminals get their clusters once it is done{reloadWhenReady ? '; this page reloads then' : ''}.</span>
    </div>
  );
}
