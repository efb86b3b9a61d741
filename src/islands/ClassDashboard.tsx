import { lazy, Suspense, useCallback, useEffect, useRef, useState } from 'react';
import { classApi } from '../lib/class-api.ts';
import { DASHBOARD_POLL_MS, type DashboardLearner, type DashboardView } from '../lib/class-view.ts';
import type { SessionSource } from '../lib/terminal-session.ts';
import { Assignments, ClassHeader, MessageForm, type Activity } from './class/ClassControls.tsx';
import { ClassSchedule } from './class/ClassSchedule.tsx';
import { DashboardTable } from './class/DashboardTable.tsx';
import '../styles/classes.css';

// xterm.js loads only when the instructor watches someone.
const Terminal = lazy(() => import('./Terminal.tsx'));

/** A learner's lab shell, read-only: the server replays it, then streams what they type. */
function WatchedTerminal({ classId, learner }: { classId: string; learner: DashboardLearner }) {
  const session = useCallback<SessionSource>(async () => {
    const found = await classApi<{ sessionId: string; socketPath: string }>(`/api/classes/${encodeURIComponent(classId)}/watch?learner=${encodeURIComponent(learner.id)}`);
    return { ...found, cluster: null };
  }, [classId, learner.id]);
  const section = useRef<HTMLElement>(null);
  useEffect(() => section.current?.scrollIntoView({ block: 'nearest' }), [learner.id]);
  return (
    <section className="class-card class-watch" aria-label={`Watching ${learner.name}`} ref={section} data-testid="class-watch">
      <h2>Watching {learner.name} (read-only; they see that you watch)</h2>
      <Suspense fallback={<p className="muted">Loading the terminal…</p>}>
        <Terminal key={learner.id} readOnly session={session} label={`${learner.name}'s terminal (read-only)`} />
      </Suspense>
    </section>
  );
}

/**
 * The instructor's class dashboard: polled with If-None-Match every few seconds (a 304 while
 * nothing changed), so learners joining, checks, passes and the stuck flag appear without a reload.
 */
export default function ClassDashboard({ classId, activities }: { classId: string; activities: Activity[] }) {
  const [view, setView] = useState<DashboardView | null>(null);
  const [problem, setProblem] = useState('');
  const [watching, setWatching] = useState<string | null>(null);
  const [messageTo, setMessageTo] = useState('');
  const [announcement, setAnnouncement] = useState('');
  const etag = useRef<string | null>(null);
  const stuckBefore = useRef(new Set<string>());

  const load = useCallback(async () => {
    try {
      const response = await fetch(`/api/classes/${encodeURIComponent(classId)}/dashboard`, { headers: etag.current ? { 'if-none-match': etag.current } : {} });
      if (response.status === 304) return;
      const data = (await response.json().catch(() => ({}))) as DashboardView & { error?: string };
      if (!response.ok) throw new Error(data.error ?? `The server answered ${response.status}.`);
      etag.current = response.headers.get('etag');
      const stuck = new Set(data.learners.filter((l) => l.stuck).map((l) => l.id));
      const newly = data.learners.filter((l) => l.stuck && !stuckBefore.current.has(l.id)).map((l) => l.name);
      if (newly.length) setAnnouncement(`Stuck: ${newly.join(', ')}`);
      stuckBefore.current = stuck;
      setView(data);
      setProblem('');
    } catch (failure) {
      setProblem(`The dashboard could not be updated: ${(failure as Error).message}. It tries again by itself.`);
    }
  }, [classId]);

  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), DASHBOARD_POLL_MS);
    return () => clearInterval(timer);
  }, [load]);

  if (!view) return <p className="muted">{problem || 'Loading the dashboard…'}</p>;
  const watched = view.learners.find((l) => l.id === watching && l.watchable) ?? null;
  const refresh = () => {
    etag.current = null;
    void load();
  };
  return (
    <div className="class-dashboard-page" data-testid="class-dashboard-page">
      <p role="status" className="visually-hidden">{announcement}</p>
      {problem && <p role="alert" className="class-error">{problem}</p>}
      <ClassHeader view={view} onChange={refresh} />
      <ClassSchedule view={view} onChange={refresh} />
      <section aria-labelledby="class-learners-title">
        <h2 id="class-learners-title">
          Learners ({view.learners.length}){' '}
          <a className="class-csv" href={`/api/classes/${encodeURIComponent(classId)}/dashboard.csv`} data-testid="class-csv">Download CSV</a>
        </h2>
        <DashboardTable
          view={view}
          watching={watched?.id ?? null}
          onWatch={(learner) => setWatching(learner?.id ?? null)}
          onMessage={(learner) => {
            setMessageTo(learner.id);
            document.getElementById('class-message')?.scrollIntoView({ block: 'nearest' });
            document.getElementById('class-message')?.querySelector('textarea')?.focus();
          }}
        />
      </section>
      {watched && <WatchedTerminal classId={classId} learner={watched} />}
      <div id="class-message">
        <MessageForm view={view} to={messageTo} onTo={setMessageTo} />
      </div>
      <Assignments view={view} activities={activities} onChange={refresh} />
    </div>
  );
}
