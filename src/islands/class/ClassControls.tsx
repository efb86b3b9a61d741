import { useId, useState } from 'react';
import { classApi } from '../../lib/class-api.ts';
import type { DashboardView } from '../../lib/class-view.ts';

export interface Activity {
  kind: 'lab' | 'quiz';
  slug: string;
  title: string;
}

const post = (classId: string, body: Record<string, unknown>) => classApi(`/api/classes/${encodeURIComponent(classId)}`, body);

/** Join code and link, rotate and close, the stuck threshold. */
export function ClassHeader({ view, onChange }: { view: DashboardView; onChange: () => void }) {
  const id = useId();
  const [minutes, setMinutes] = useState(String(Math.max(1, Math.round(view.class.stuckAfterSeconds / 60))));
  const [error, setError] = useState('');
  const act = async (body: Record<string, unknown>) => {
    setError('');
    try {
      await post(view.class.id, body);
      onChange();
    } catch (failure) {
      setError((failure as Error).message);
    }
  };
  return (
    <section aria-labelledby={`${id}-join`} className="class-card">
      <h2 id={`${id}-join`}>Joining</h2>
      {view.class.closed ? (
        <p>This class is closed: nobody can join it.</p>
      ) : (
        <>
          <p>
            Join code: <strong className="class-code" data-testid="join-code">{view.class.joinCode}</strong>. Join link:{' '}
            <a href={view.class.joinUrl} data-testid="join-link">{view.class.joinUrl}</a>
          </p>
          <p className="class-buttons">
            <button type="button" onClick={() => void act({ action: 'rotate' })}>New join code (the old one stops working)</button>
            <button type="button" onClick={() => confirm('Close this class? Nobody can join it afterwards.') && void act({ action: 'close' })}>Close the class</button>
          </p>
        </>
      )}
      <form
        className="class-inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void act({ action: 'stuck', seconds: Math.round(Number(minutes) * 60) });
        }}
      >
        <label htmlFor={`${id}-stuck`}>Flag a learner as stuck after (minutes on a failing step)</label>
        <input id={`${id}-stuck`} type="number" min={1} max={1440} step={1} value={minutes} onChange={(e) => setMinutes(e.target.value)} />
        <button type="submit">Set</button>
      </form>
      <p role="alert" className="class-error">{error}</p>
    </section>
  );
}

/** Assign labs and quizzes from the catalogs, with an optional due date; remove an assignment. */
export function Assignments({ view, activities, onChange }: { view: DashboardView; activities: Activity[]; onChange: () => void }) {
  const id = useId();
  const [choice, setChoice] = useState('');
  const [due, setDue] = useState('');
  const [error, setError] = useState('');
  const act = async (body: Record<string, unknown>) => {
    setError('');
    try {
      await post(view.class.id, body);
      onChange();
    } catch (failure) {
      setError((failure as Error).message);
    }
  };
  return (
    <section aria-labelledby={`${id}-title`} className="class-card">
      <h2 id={`${id}-title`}>Assignments</h2>
      {view.assignments.length === 0 ? (
        <p className="muted">Nothing assigned yet.</p>
      ) : (
        <ul className="class-assignments">
          {view.assignments.map((a) => (
            <li key={`${a.kind}:${a.slug}`} data-assignment={a.slug}>
              {a.kind === 'lab' ? 'Lab' : 'Quiz'}: {a.title}
              {a.dueAt ? `, due ${new Date(a.dueAt).toLocaleString()}` : ''}{' '}
              {a.kind === 'quiz' && (
                <a href={`/instructor/quizzes/${encodeURIComponent(a.slug)}?class=${encodeURIComponent(view.class.id)}`}>Item statistics for this class</a>
              )}{' '}
              <button type="button" onClick={() => void act({ action: 'unassign', kind: a.kind, slug: a.slug })}>
                Remove {a.title}
              </button>
            </li>
          ))}
        </ul>
      )}
      <form
        className="class-inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          const [kind, slug] = choice.split(':');
          void act({ action: 'assign', kind, slug, ...(due ? { dueAt: new Date(due).toISOString() } : {}) });
        }}
      >
        <label htmlFor={`${id}-what`}>Lab or quiz</label>
        <select id={`${id}-what`} value={choice} required onChange={(e) => setChoice(e.target.value)}>
          <option value="">Choose…</option>
          <optgroup label="Labs">
            {activities.filter((a) => a.kind === 'lab').map((a) => <option key={a.slug} value={`lab:${a.slug}`}>{a.title}</option>)}
          </optgroup>
          <optgroup label="Quizzes">
            {activities.filter((a) => a.kind === 'quiz').map((a) => <option key={a.slug} value={`quiz:${a.slug}`}>{a.title}</option>)}
          </optgroup>
        </select>
        <label htmlFor={`${id}-due`}>Due (optional)</label>
        <input id={`${id}-due`} type="datetime-local" value={due} onChange={(e) => setDue(e.target.value)} />
        <button type="submit">Assign</button>
      </form>
      <p role="alert" className="class-error">{error}</p>
    </section>
  );
}

/** A message to one learner or the whole class; shown on their lab page as text. */
export function MessageForm({ view, to, onTo }: { view: DashboardView; to: string; onTo: (learnerId: string) => void }) {
  const id = useId();
  const [text, setText] = useState('');
  const [note, setNote] = useState('');
  return (
    <section aria-labelledby={`${id}-title`} className="class-card">
      <h2 id={`${id}-title`}>Message</h2>
      <form
        className="class-form"
        onSubmit={async (e) => {
          e.preventDefault();
          setNote('');
          try {
            await post(view.class.id, { action: 'message', text, ...(to ? { learner: to } : {}) });
            setText('');
            setNote('Sent.');
          } catch (failure) {
            setNote((failure as Error).message);
          }
        }}
      >
        <label htmlFor={`${id}-to`}>To</label>
        <select id={`${id}-to`} value={to} onChange={(e) => onTo(e.target.value)}>
          <option value="">The whole class</option>
          {view.learners.map((l) => <option key={l.id} value={l.id}>{l.name}</option>)}
        </select>
        <label htmlFor={`${id}-text`}>Message text</label>
        <textarea id={`${id}-text`} value={text} required maxLength={500} rows={3} onChange={(e) => setText(e.target.value)} />
        <button type="submit">Send</button>
        <p role="status">{note}</p>
      </form>
    </section>
  );
}
