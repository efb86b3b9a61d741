import { lazy, Suspense, useCallback, useEffect, useRef, useState } from 'react';
import type { ParticipantView } from '../lib/drill-view.ts';
import { SessionError, type SessionSource } from '../lib/terminal-session.ts';
import { drillTerminalSession, useDrillStore } from '../stores/drill-store.ts';
import { DrillLog, LogComposer } from './DrillLog.tsx';
import { ConnectionBadge, DrillStatusBar, Expectations, Findings, Participants, Scoreboard } from './DrillParts.tsx';

// xterm.js loads only when a terminal is shown (not for someone who has not joined, nor after the end).
const Terminal = lazy(() => import('./Terminal.tsx'));
const loadingTerminal = <p className="muted">Loading the terminal…</p>;

/** Someone else's shell, read-only: the server replays it, then streams it as they type. */
function WatchedTerminal({ participant }: { participant: ParticipantView }) {
  const sessionId = participant.terminalSessionId ?? '';
  const session = useCallback<SessionSource>(async () => ({ sessionId, socketPath: `/ws/terminal/${encodeURIComponent(sessionId)}?watch=1`, cluster: null }), [sessionId]);
  const section = useRef<HTMLElement>(null);
  // Bring it into view when watching starts (xterm also skips drawing while it is off screen).
  useEffect(() => section.current?.scrollIntoView({ block: 'nearest' }), [sessionId]);
  return (
    <section className="drill-watch" aria-label={`Watching ${participant.name}`} ref={section}>
      <h2>
        Watching {participant.name} <span className="muted">({participant.role})</span>
      </h2>
      <Suspense fallback={loadingTerminal}>
        <Terminal key={sessionId} readOnly session={session} label={`${participant.name}'s terminal (read-only)`} />
      </Suspense>
    </section>
  );
}

/**
 * A participant's drill room: the clock, the cluster, their own terminal into the drill cluster,
 * the shared log with a composer, the scoreboard, and everyone else's terminals to watch.
 */
export default function DrillRoom({ drillId }: { drillId: string }) {
  const { drill, log, receivedAt, connection, connectionDetail, loadedSeq, busy, error, connect, postLog, answer } = useDrillStore();
  const [watching, setWatching] = useState<ParticipantView | null>(null);
  useEffect(() => connect(drillId, null), [drillId, connect]);

  const ownSession = useCallback<SessionSource>(async () => {
    try {
      const { sessionId } = await drillTerminalSession(drillId);
      return { sessionId, socketPath: `/ws/terminal/${encodeURIComponent(sessionId)}`, cluster: null };
    } catch (failure) {
      throw new SessionError((failure as Error).message);
    }
  }, [drillId]);

  if (!drill) {
    return (
      <section className="drill-page">
        <ConnectionBadge status={connection} detail={connectionDetail} />
        {connection === 'failed' && (
          <p>
            If you have not joined this drill yet, <a href="/drills/join">join it with its code</a>.
          </p>
        )}
      </section>
    );
  }
  if (!drill.you) {
    return (
      <section className="drill-page">
        <h1>{drill.title}</h1>
        <p>
          You are not a participant of this drill. <a href={`/drills/join?code=${encodeURIComponent(drill.code)}`}>Join it</a> to get a terminal and
          post to the log.
        </p>
      </section>
    );
  }
  // The participant list refreshes with every state message: follow the watched one's session.
  const watched = watching ? (drill.participants.find((p) => p.id === watching.id) ?? null) : null;
  const ended = drill.state === 'ended';
  return (
    <section className="drill-page" aria-labelledby="drill-title">
      <header className="drill-header">
        <div>
          <p className="eyebrow">
            Drill {drill.code} · you are {drill.you.name}, {drill.you.role}
          </p>
          <h1 id="drill-title">{drill.title}</h1>
        </div>
        <DrillStatusBar drill={drill} receivedAt={receivedAt} connection={connection} connectionDetail={connectionDetail} />
      </header>
      {ended && (
        <p className="drill-banner" role="status">
          The drill has ended. <a href={`/drills/${encodeURIComponent(drill.id)}/report`}>Read the after-action report</a>.
        </p>
      )}
      {error && (
        <p className="drill-error" role="alert">
          {error}
        </p>
      )}
      <div className="drill-layout">
        <div className="drill-main">
          {drill.cluster.status === 'ready' && !ended ? (
            <Suspense fallback={loadingTerminal}>
              <Terminal session={ownSession} label={`Your shell in drill ${drill.code}`} />
            </Suspense>
          ) : (
            <p className="muted drill-terminal-placeholder">
              {ended ? 'The drill has ended; terminals are closed.' : 'Your terminal opens here once the drill cluster is ready.'}
            </p>
          )}
          {watched?.terminalSessionId && <WatchedTerminal participant={watched} />}
        </div>
        <div className="drill-side">
          <section className="drill-card" aria-labelledby="drill-log-title">
            <h2 id="drill-log-title">Incident log</h2>
            <DrillLog log={log} loadedSeq={loadedSeq} />
            <LogComposer onPost={postLog} busy={busy === 'log'} disabled={ended} />
          </section>
          <Scoreboard rows={drill.scoreboard} />
          <Findings questions={drill.questions ?? []} onSave={answer} busy={busy === 'answers'} disabled={drill.state !== 'running' && drill.state !== 'paused'} />
          <Participants participants={drill.participants} you={drill.you.id} watching={watched?.id ?? null} onWatch={setWatching} />
          <Expectations items={drill.expectations} />
        </div>
      </div>
    </section>
  );
}
