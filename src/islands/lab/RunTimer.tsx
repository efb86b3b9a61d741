import { useEffect, useMemo, useState } from 'react';
import type { RunView } from '../../lib/lab-view.ts';

/** Warnings are announced once each as the time left crosses these (minutes). */
const WARN_AT = [10, 2] as const;

/** "1:05:09" / "4:07": what a countdown reads like. */
export function clock(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`;
}

/**
 * Time left of the run, counted from the server's clock (the view says what time the server had
 * when it answered), so a wrong clock on the learner's machine does not move the deadline.
 */
function useTimeLeft(run: RunView): number {
  // Offset between the server's clock and this one, taken when the view arrived.
  const skew = useMemo(() => Date.parse(run.serverTime) - Date.now(), [run.serverTime]);
  const left = () => Date.parse(run.expiresAt) - (Date.now() + skew);
  const [ms, setMs] = useState(left);
  useEffect(() => {
    setMs(left());
    const timer = setInterval(() => setMs(left()), 1000);
    return () => clearInterval(timer);
  }, [run.expiresAt, skew]);
  return ms;
}

/**
 * The run's countdown, its warnings (a polite live region, once at each threshold; the ticking
 * clock itself is not announced), and Extend. At zero the page asks the server again, which ends
 * the run.
 */
export function RunTimer({ run, busy, onExtend, onExpired }: { run: RunView; busy: boolean; onExtend: () => void; onExpired: () => void }) {
  const ms = useTimeLeft(run);
  const level = WARN_AT.filter((m) => ms <= m * 60_000).at(-1);
  const [announced, setAnnounced] = useState('');
  useEffect(() => {
    if (level === undefined) return setAnnounced('');
    const extend = run.extend.minutes > 0 ? ` Press Extend to add ${run.extend.minutes} minutes.` : ' It cannot be extended further: keep your evidence in files and your notes, they stay.';
    setAnnounced(`${level === 2 ? 'Two' : 'Ten'} minutes left in this lab run; then its cluster is given back.${extend}`);
  }, [level, run.extend.minutes]);
  const expired = ms <= 0;
  useEffect(() => {
    if (expired) onExpired();
  }, [expired, onExpired]);
  const ends = new Date(run.expiresAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return (
    <div className={`lab-timer${level !== undefined ? ' lab-timer-warn' : ''}`}>
      <p>
        <span className="lab-timer-label">Time left</span>{' '}
        <time dateTime={run.expiresAt} data-testid="lab-time-left">
          {clock(ms)}
        </time>{' '}
        <span className="muted">(ends at {ends})</span>
      </p>
      <button
        type="button"
        disabled={busy || run.extend.minutes === 0}
        onClick={onExtend}
        aria-describedby="lab-extend-note"
      >
        {run.extend.minutes > 0 ? `Extend by ${run.extend.minutes} min` : 'Extend'}
      </button>
      <span id="lab-extend-note" className="muted lab-extend-note">
        {run.extend.minutes > 0 ? `up to ${run.extend.maxMinutes} minutes in all (${run.extend.minutesLeft} min left to add)` : `at the maximum of ${run.extend.maxMinutes} minutes`}
      </span>
      <p className="visually-hidden" aria-live="polite">
        {announced}
      </p>
    </div>
  );
}
