import { useId, useState } from 'react';
import { classApi } from '../../lib/class-api.ts';
import type { DashboardView } from '../../lib/class-view.ts';

/** An ISO time as a datetime-local input's value, in the browser's zone. */
function localInput(iso: string | undefined): string {
  if (!iso) return '';
  const at = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

/**
 * When the class runs and how many learners to expect: the server keeps clusters ready for them
 * ahead of the start (docs/classes.md, "Schedule"), for the labs assigned below.
 */
export function ClassSchedule({ view, onChange }: { view: DashboardView; onChange: () => void }) {
  const id = useId();
  const schedule = view.class.schedule;
  const [startsAt, setStartsAt] = useState(localInput(schedule?.startsAt));
  const [minutes, setMinutes] = useState(schedule ? String(Math.round((Date.parse(schedule.endsAt) - Date.parse(schedule.startsAt)) / 60_000)) : '120');
  const [expected, setExpected] = useState(schedule ? String(schedule.expectedLearners) : '');
  const [error, setError] = useState('');
  const [note, setNote] = useState('');
  const send = async (value: unknown) => {
    setError('');
    setNote('');
    try {
      await classApi(`/api/classes/${encodeURIComponent(view.class.id)}`, { action: 'schedule', schedule: value });
      setNote(value === null ? 'Schedule cleared.' : 'Schedule saved.');
      onChange();
    } catch (failure) {
      setError((failure as Error).message);
    }
  };
  if (view.class.closed) return null;
  return (
    <section aria-labelledby={`${id}-title`} className="class-card" data-testid="class-schedule">
      <h2 id={`${id}-title`}>Schedule</h2>
      <p data-testid="class-schedule-now">
        {schedule
          ? `Runs ${new Date(schedule.startsAt).toLocaleString()} to ${new Date(schedule.endsAt).toLocaleString()}, ${schedule.expectedLearners} learner(s) expected: clusters for the assigned labs are made ready before the start.`
          : 'No schedule: say when the class runs and how many learners to expect, and clusters are made ready before the start.'}
      </p>
      <form
        className="class-inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          const start = new Date(startsAt);
          if (Number.isNaN(start.getTime())) return setError('Give the date and time the class starts.');
          void send({ startsAt: start.toISOString(), minutes: Number(minutes), expectedLearners: Number(expected) });
        }}
      >
        <label htmlFor={`${id}-start`}>Starts at</label>
        <input id={`${id}-start`} type="datetime-local" required value={startsAt} onChange={(e) => setStartsAt(e.target.value)} />
        <label htmlFor={`${id}-minutes`}>Runs for (minutes)</label>
        <input id={`${id}-minutes`} type="number" required min={15} max={10080} step={1} value={minutes} onChange={(e) => setMinutes(e.target.value)} />
        <label htmlFor={`${id}-expected`}>Learners expected</label>
        <input id={`${id}-expected`} type="number" required min={1} step={1} value={expected} onChange={(e) => setExpected(e.target.value)} />
        <button type="submit">Save schedule</button>
        {schedule && (
          <button type="button" onClick={() => void send(null)}>
            Clear schedule
          </button>
        )}
      </form>
      <p role="status">{note}</p>
      <p role="alert" className="class-error">{error}</p>
    </section>
  );
}
