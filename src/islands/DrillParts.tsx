import { useEffect, useId, useState } from 'react';
import { clockNow, formatClock, type DrillConnection } from '../lib/drill-socket.ts';
import type { DrillQuestionView, DrillState, DrillView, ExpectationView, ParticipantView, ScoreRow } from '../lib/drill-view.ts';
import '../styles/drills.css';

const stateWords: Record<DrillState, string> = {
  lobby: 'Waiting to start',
  running: 'Running',
  paused: 'Paused',
  ended: 'Ended',
};

/** The drill clock, ticking locally between server readings. */
export function DrillClock({ drill, receivedAt }: { drill: DrillView; receivedAt: number }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!drill.clock.running) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [drill.clock.running]);
  const elapsed = clockNow(drill.clock, receivedAt, now);
  return (
    <p className="drill-clock" data-state={drill.state}>
      <span className="drill-clock-time" role="timer" aria-label={`Drill clock ${formatClock(elapsed)} of ${formatClock(drill.clock.durationMs)}`} data-testid="drill-clock">
        T+{formatClock(elapsed)}
      </span>
      <span className="muted"> / {formatClock(drill.clock.durationMs)}</span>{' '}
      <span className="drill-state" data-testid="drill-state">
        {stateWords[drill.state]}
      </span>
    </p>
  );
}

/** Live / reconnecting / offline, in words as well as colour. */
export function ConnectionBadge({ status, detail }: { status: DrillConnection; detail: string }) {
  return (
    <p className="drill-connection" data-connection={status} role="status" aria-live="polite" data-testid="drill-connection">
      <span aria-hidden="true" className="drill-connection-dot" /> {detail}
    </p>
  );
}

/** Cluster preparation, with a progress bar when the message says "n/m". */
export function ClusterStatus({ cluster }: { cluster: DrillView['cluster'] }) {
  const progress = /(\d+)\s*\/\s*(\d+)/.exec(cluster.message);
  const words = { preparing: 'Preparing the cluster', ready: 'Cluster ready', failed: 'Cluster failed', deleted: 'Cluster deleted' }[cluster.status];
  return (
    <div className="drill-cluster" data-cluster={cluster.status} data-testid="drill-cluster">
      {/* One run of text: as flex items the word and its message wrapped apart (a lone ": …" line). */}
      <span>
        <strong>{words}</strong>
        {cluster.message && <span className="muted">: {cluster.message}</span>}
      </span>
      {cluster.status === 'preparing' && (
        <progress
          aria-label="Cluster preparation"
          max={progress ? Number(progress[2]) : undefined}
          value={progress ? Number(progress[1]) : undefined}
        />
      )}
    </div>
  );
}

/** The lab's checks against the drill cluster: green at which drill time. */
/** The header's right side, the same for participants and the facilitator: clock, cluster, connection. */
export function DrillStatusBar({ drill, receivedAt, connection, connectionDetail }: { drill: DrillView; receivedAt: number; connection: DrillConnection; connectionDetail: string }) {
  return (
    <div className="drill-header-status">
      <DrillClock drill={drill} receivedAt={receivedAt} />
      <ClusterStatus cluster={drill.cluster} />
      <ConnectionBadge status={connection} detail={connectionDetail} />
    </div>
  );
}

export function Scoreboard({ rows }: { rows: ScoreRow[] }) {
  return (
    <section className="drill-card" aria-labelledby="drill-scoreboard-title">
      <h2 id="drill-scoreboard-title">Scoreboard</h2>
      {rows.length === 0 ? (
        <p className="muted">The checks start once the drill is running.</p>
      ) : (
        <ul className="drill-score" data-testid="drill-scoreboard">
          {rows.map((row) => (
            <li key={row.step} className={row.passedAt ? 'ok' : 'missing'} data-step={row.step} data-passed={Boolean(row.passedAt)}>
              <span aria-hidden="true" className="drill-score-mark">
                {row.passedAt ? '✓' : '○'}
              </span>
              <span className="drill-score-title">
                {row.title} <span className="muted">({row.phase})</span>
              </span>
              <span className="drill-score-when">{row.passedAt && row.tMs !== null ? `green at T+${formatClock(row.tMs)}` : 'not yet'}</span>
              {row.criteria.length > 0 && (
                <details>
                  <summary>Criteria</summary>
                  <ul className="criteria">
                    {row.criteria.map((c) => (
                      <li key={c.id} className={c.passed ? 'ok' : 'missing'}>
                        <span aria-hidden="true">{c.passed ? '✓' : '✗'}</span>
                        <span className="visually-hidden">{c.passed ? 'Passed:' : 'Not yet:'}</span> {c.message}
                      </li>
                    ))}
                  </ul>
                </details>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** What the facilitator watches for; they can tick them, everyone else sees them. */
export function Expectations({ items, onMark, busy }: { items: ExpectationView[]; onMark?: (id: string, met: boolean) => void; busy?: string | null }) {
  if (items.length === 0) return null;
  return (
    <section className="drill-card" aria-labelledby="drill-expectations-title">
      <h2 id="drill-expectations-title">Expectations</h2>
      <ul className="drill-expectations">
        {items.map((item) =>
          onMark ? (
            <li key={item.id}>
              <label>
                <input type="checkbox" checked={item.met} disabled={busy === `expectation:${item.id}`} onChange={(e) => onMark(item.id, e.target.checked)} /> {item.text}
              </label>
            </li>
          ) : (
            <li key={item.id} className={item.met ? 'ok' : 'missing'}>
              <span aria-hidden="true">{item.met ? '✓' : '○'}</span>
              <span className="visually-hidden">{item.met ? 'Met:' : 'Not yet:'}</span> {item.text}
            </li>
          ),
        )}
      </ul>
    </section>
  );
}

/** Who is in the drill; each can be watched (read-only) once they have a terminal. */
export function Participants({
  participants,
  you,
  watching,
  onWatch,
}: {
  participants: ParticipantView[];
  you: string | null;
  watching?: string | null;
  onWatch?: (participant: ParticipantView | null) => void;
}) {
  return (
    <section className="drill-card" aria-labelledby="drill-participants-title">
      <h2 id="drill-participants-title">Participants ({participants.length})</h2>
      {participants.length === 0 ? (
        <p className="muted">Nobody has joined yet.</p>
      ) : (
        <ul className="drill-participants" data-testid="drill-participants">
          {participants.map((p) => (
            <li key={p.id}>
              <span>
                <strong>{p.name}</strong> <span className="muted">· {p.role}</span>
                {p.id === you && <span className="drill-you"> (you)</span>}
              </span>
              {onWatch && p.id !== you && (
                <button
                  type="button"
                  disabled={!p.terminalSessionId}
                  aria-pressed={watching === p.id}
                  title={p.terminalSessionId ? undefined : 'They have not opened a terminal yet'}
                  onClick={() => onWatch(watching === p.id ? null : p)}
                >
                  {watching === p.id ? `Stop watching ${p.name}` : `Watch ${p.name}'s terminal`}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/**
 * The investigation questions the team answers together (the scoreboard grades the step on the
 * latest answers). A field someone is editing is not overwritten by a teammate's save.
 */
export function Findings({ questions, onSave, busy, disabled }: { questions: DrillQuestionView[]; onSave: (answers: Record<string, string>) => Promise<boolean>; busy: boolean; disabled?: boolean }) {
  const id = useId();
  const [drafts, setDrafts] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState('');
  if (questions.length === 0) return null;
  const value = (q: DrillQuestionView) => drafts[q.id] ?? q.answer;
  return (
    <form
      className="drill-card drill-findings"
      aria-labelledby={`${id}-title`}
      onSubmit={async (e) => {
        e.preventDefault();
        const answers = Object.fromEntries(questions.map((q) => [q.id, value(q)]));
        if (await onSave(answers)) {
          setDrafts({});
          setSaved('Saved for the team; the scoreboard checks them on its next pass.');
        }
      }}
    >
      <h2 id={`${id}-title`}>Team findings</h2>
      {questions.map((q) => (
        <div key={q.id} className="drill-finding">
          <label htmlFor={`${id}-${q.id}`}>{q.prompt}</label>
          <input
            id={`${id}-${q.id}`}
            value={value(q)}
            placeholder={q.placeholder}
            autoComplete="off"
            spellCheck={false}
            disabled={disabled}
            onChange={(e) => {
              setSaved('');
              setDrafts({ ...drafts, [q.id]: e.target.value });
            }}
          />
        </div>
      ))}
      <button type="submit" disabled={disabled || busy}>
        {busy ? 'Saving…' : 'Save findings'}
      </button>
      <p role="status" className="muted">
        {saved}
      </p>
    </form>
  );
}
