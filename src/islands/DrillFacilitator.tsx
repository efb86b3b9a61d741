import { useEffect, useId, useState } from 'react';
import { formatClock } from '../lib/drill-socket.ts';
import type { DrillView } from '../lib/drill-view.ts';
import { facilitatorToken, useDrillStore } from '../stores/drill-store.ts';
import { DrillLog, LogComposer } from './DrillLog.tsx';
import { ConnectionBadge, DrillStatusBar, Expectations, Participants, Scoreboard } from './DrillParts.tsx';

/** Start, pause, resume, fast-forward, end: only the moves the drill's state allows. */
function Controls({ drill }: { drill: DrillView }) {
  const { control, busy } = useDrillStore();
  const id = useId();
  const [minutes, setMinutes] = useState(5);
  const running = drill.state === 'running';
  const disabled = Boolean(busy);
  return (
    <section className="drill-card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Controls</h2>
      <div className="drill-controls" role="group" aria-label="Drill clock">
        {drill.state === 'lobby' && (
          <button type="button" className="primary" disabled={disabled || drill.cluster.status !== 'ready'} onClick={() => control({ action: 'start' })}>
            Start the drill
          </button>
        )}
        {running && (
          <button type="button" disabled={disabled} onClick={() => control({ action: 'pause' })}>
            Pause
          </button>
        )}
        {drill.state === 'paused' && (
          <button type="button" className="primary" disabled={disabled} onClick={() => control({ action: 'resume' })}>
            Resume
          </button>
        )}
        {drill.state !== 'ended' && drill.state !== 'lobby' && (
          <button
            type="button"
            className="danger"
            disabled={disabled}
            onClick={() => window.confirm('End the drill for everyone? Terminals close and the report is built.') && control({ action: 'end' })}
          >
            End the drill
          </button>
        )}
      </div>
      {(running || drill.state === 'paused') && (
        <form
          className="drill-fast-forward"
          onSubmit={(e) => {
            e.preventDefault();
            void control({ action: 'fast-forward', minutes });
          }}
        >
          <label htmlFor={`${id}-minutes`}>Fast-forward the clock by</label>
          <input id={`${id}-minutes`} type="number" min={1} max={240} value={minutes} onChange={(e) => setMinutes(Number(e.target.value))} /> <span>minutes</span>
          <button type="submit" disabled={disabled || !(minutes > 0)}>
            Fast-forward
          </button>
        </form>
      )}
      {drill.state === 'lobby' && drill.cluster.status !== 'ready' && <p className="muted">You can start once the cluster is ready.</p>}
      {drill.state === 'lobby' && (
        <div className="drill-early" role="group" aria-label="Terminals before the start">
          <p className="muted" data-testid="drill-terminals-state">
            {drill.terminals.openedEarly
              ? 'Terminals and the audit log are open before the start.'
              : 'Participants\' terminals and audit log are locked until you start the clock.'}
          </p>
          <button type="button" disabled={disabled} onClick={() => control({ action: drill.terminals.openedEarly ? 'lock-terminals' : 'open-terminals' })}>
            {drill.terminals.openedEarly ? 'Lock terminals until the start' : 'Open terminals now'}
          </button>
        </div>
      )}
    </section>
  );
}

/** Scripted injects still to come (titles and times only) and a manual message inject. */
function Injects({ drill }: { drill: DrillView }) {
  const { inject, busy } = useDrillStore();
  const id = useId();
  const [title, setTitle] = useState('');
  const [body, setBody] = useState('');
  const live = drill.state === 'running' || drill.state === 'paused';
  const upcoming = drill.upcomingInjects ?? [];
  return (
    <section className="drill-card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Injects</h2>
      <h3 className="small-heading">Upcoming</h3>
      {upcoming.length === 0 ? (
        <p className="muted">No scripted injects left.</p>
      ) : (
        <ul className="drill-upcoming" data-testid="drill-upcoming">
          {upcoming.map((u) => (
            <li key={u.id}>
              <span>
                <strong>T+{formatClock(u.atMs)}</strong> {u.title}
                {u.conditional && <span className="drill-tag">conditional</span>}
                {u.attack && <span className="drill-tag drill-tag-attack">attacker action</span>}
              </span>
              <button type="button" disabled={!live || Boolean(busy)} onClick={() => inject({ injectId: u.id })}>
                {busy === `inject:${u.id}` ? 'Firing…' : `Fire “${u.title}” now`}
              </button>
            </li>
          ))}
        </ul>
      )}
      <form
        className="drill-manual-inject"
        onSubmit={async (e) => {
          e.preventDefault();
          if (await inject({ title: title.trim(), body: body.trim() })) {
            setTitle('');
            setBody('');
          }
        }}
      >
        <h3 className="small-heading">Manual inject</h3>
        <label htmlFor={`${id}-inject-title`}>Title</label>
        <input id={`${id}-inject-title`} value={title} maxLength={200} onChange={(e) => setTitle(e.target.value)} placeholder="e.g. Legal asks for a status update" />
        <label htmlFor={`${id}-inject-body`}>Message to the team</label>
        <textarea id={`${id}-inject-body`} value={body} rows={3} maxLength={4000} onChange={(e) => setBody(e.target.value)} />
        <button type="submit" disabled={!live || Boolean(busy) || !title.trim()}>
          {busy === 'inject:manual' ? 'Sending…' : 'Send inject'}
        </button>
      </form>
    </section>
  );
}

/** Asks for the token when the page was opened without `#token=…` (e.g. a new tab). */
function TokenForm({ onToken }: { onToken: (token: string) => void }) {
  const [value, setValue] = useState('');
  return (
    <form
      className="drill-card drill-token-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (value.trim()) onToken(value.trim());
      }}
    >
      <h1>Facilitator sign-in</h1>
      <p>Open the facilitator link you were given when you created the drill, or paste its token here.</p>
      <label htmlFor="drill-token">Facilitator token</label>
      <input id="drill-token" type="password" autoComplete="off" value={value} onChange={(e) => setValue(e.target.value)} />
      <button type="submit" className="primary">
        Continue
      </button>
    </form>
  );
}

/** The facilitator's console: the clock and its controls, injects, expectations, log, scoreboard. */
export default function DrillFacilitator({ drillId }: { drillId: string }) {
  const { drill, log, receivedAt, connection, connectionDetail, loadedSeq, busy, error, connect, postLog, markExpectation, clearError } = useDrillStore();
  const [token, setToken] = useState<string | null | undefined>(undefined);
  useEffect(() => setToken(facilitatorToken(drillId)), [drillId]);
  useEffect(() => (token ? connect(drillId, token) : undefined), [drillId, token, connect]);

  const saveToken = (t: string) => {
    try {
      sessionStorage.setItem(`irlab-drill-facilitator:${drillId}`, t);
    } catch {
      // storage disabled: the token lives as long as this page
    }
    setToken(t);
  };
  if (token === undefined) return null;
  if (!token) return <TokenForm onToken={saveToken} />;
  if (!drill)
    return (
      <>
        <ConnectionBadge status={connection} detail={connectionDetail} />
        {/* A refused token (mistyped, or another drill's): ask again rather than leave a dead page. */}
        {connection === 'failed' && <TokenForm onToken={saveToken} />}
      </>
    );
  const joinLink = `${location.origin}/drills/join?code=${encodeURIComponent(drill.code)}&roles=${encodeURIComponent(drill.roles.join(','))}`;
  return (
    <section className="drill-page" aria-labelledby="drill-title">
      <header className="drill-header">
        <div>
          <p className="eyebrow">Facilitating · join code <span data-testid="drill-code">{drill.code}</span></p>
          <h1 id="drill-title">{drill.title}</h1>
          <p className="muted">
            Participants join at <a href={joinLink}>{joinLink}</a>
          </p>
        </div>
        <DrillStatusBar drill={drill} receivedAt={receivedAt} connection={connection} connectionDetail={connectionDetail} />
      </header>
      {drill.state === 'ended' && (
        <p className="drill-banner" role="status">
          The drill has ended. <a href={`/drills/${encodeURIComponent(drill.id)}/report`}>Open the after-action report</a>.
        </p>
      )}
      {error && (
        <p className="drill-error" role="alert">
          {error}{' '}
          <button type="button" onClick={clearError}>
            Dismiss
          </button>
        </p>
      )}
      <div className="drill-layout">
        <div className="drill-main">
          <Controls drill={drill} />
          <Injects drill={drill} />
          <Expectations items={drill.expectations} onMark={(id, met) => void markExpectation(id, met)} busy={busy} />
          <Participants participants={drill.participants} you={null} />
        </div>
        <div className="drill-side">
          <section className="drill-card" aria-labelledby="drill-log-title">
            <h2 id="drill-log-title">Incident log</h2>
            <DrillLog log={log} loadedSeq={loadedSeq} />
            <LogComposer onPost={postLog} busy={busy === 'log'} disabled={drill.state === 'ended'} />
          </section>
          <Scoreboard rows={drill.scoreboard} />
        </div>
      </div>
    </section>
  );
}
