import { lazy, Suspense, useCallback, useEffect, useRef, useState } from 'react';
import type { DrillView, ParticipantView, PostLogRequest } from '../lib/drill-view.ts';
import type { Ev } from '../lib/query/columns.ts';
import { eventSummaryMarkdown } from '../lib/query/event-summary.ts';
import { SessionError, type SessionSource } from '../lib/terminal-session.ts';
import { drillTerminalSession, useDrillStore } from '../stores/drill-store.ts';
import { DrillLog, LogComposer } from './DrillLog.tsx';
import { ConnectionBadge, DrillStatusBar, Expectations, Findings, Participants, Scoreboard } from './DrillParts.tsx';
import { DrillTabs } from './DrillTabs.tsx';

// xterm.js loads only when a terminal is shown (not for someone who has not joined, nor after the end);
// the query panel only when the Audit log tab is first opened.
const Terminal = lazy(() => import('./Terminal.tsx'));
const QueryPanel = lazy(() => import('./QueryPanel.tsx'));
const loadingTerminal = <p className="muted">Loading the terminal…</p>;
const FIRST_QUERY = 'objectRef.resource == "secrets" AND verb in ("get", "list") | count by user.username';

/** Why the terminal and the audit log are not there (yet), or null when they are. */
function closedBecause(drill: DrillView): string | null {
  if (drill.state === 'ended') return 'The drill has ended; terminals are closed and the cluster is deleted. The after-action report keeps what happened.';
  if (!drill.terminals.open) return 'Locked until the drill clock starts: the facilitator starts it (or opens the terminals early), and this opens by itself.';
  if (drill.cluster.status !== 'ready') return 'This opens once the drill cluster is ready.';
  return null;
}

function Closed({ drill, what }: { drill: DrillView; what: string }) {
  const locked = drill.state !== 'ended' && !drill.terminals.open;
  return (
    <p className="muted drill-terminal-placeholder" data-testid={locked ? `drill-${what}-locked` : undefined}>
      {locked && <strong>{what === 'terminal' ? 'Your terminal' : 'The audit log'} is locked. </strong>}
      {closedBecause(drill)}
    </p>
  );
}

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
 * A participant's drill room: the clock, the cluster, their role, tabs with their own terminal into
 * the drill cluster (and teammates' to watch) and the Audit log (the query panel over the drill
 * cluster's log; a pinned event goes to the incident log), the shared log with a composer, the
 * scoreboard. Terminal and audit log are locked until the clock starts (the server enforces it)
 * and open live when it does.
 */
export default function DrillRoom({ drillId }: { drillId: string }) {
  const { drill, log, receivedAt, connection, connectionDetail, loadedSeq, busy, error, connect, postLog, answer } = useDrillStore();
  const [watching, setWatching] = useState<ParticipantView | null>(null);
  const [tab, setTab] = useState('terminal');
  const [shownTabs, setShownTabs] = useState<ReadonlySet<string>>(() => new Set(['terminal']));
  useEffect(() => connect(drillId, null), [drillId, connect]);
  // A pinned event goes to the team's shared notes: the incident log, as a note by the pinner.
  const pin = useCallback(
    async (event: Ev) => ((await postLog({ kind: 'note', text: eventSummaryMarkdown(event) } satisfies PostLogRequest)) ? 'Pinned to the incident log for the whole team.' : 'Not pinned: see the error above the room.'),
    [postLog],
  );

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
  const open = closedBecause(drill) === null;
  return (
    <section className="drill-page" aria-labelledby="drill-title">
      <header className="drill-header">
        <div>
          <p className="eyebrow">
            Drill {drill.code} · you are {drill.you.name}
          </p>
          <h1 id="drill-title">{drill.title}</h1>
          <p className="drill-role" data-testid="drill-role">
            Your role: <strong>{drill.you.role}</strong>
          </p>
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
          <DrillTabs
            label="Drill workspace"
            selected={tab}
            shown={shownTabs}
            onSelect={(id) => {
              setTab(id);
              setShownTabs((before) => new Set(before).add(id));
            }}
            tabs={[
              {
                id: 'terminal',
                label: 'Terminal',
                focusableStart: false,
                render: () => (
                  <>
                    {open ? (
                      <Suspense fallback={loadingTerminal}>
                        <Terminal session={ownSession} label={`Your shell in drill ${drill.code}`} />
                      </Suspense>
                    ) : (
                      <Closed drill={drill} what="terminal" />
                    )}
                    {watched?.terminalSessionId && <WatchedTerminal participant={watched} />}
                  </>
                ),
              },
              {
                id: 'audit',
                label: 'Audit log',
                focusableStart: open,
                render: () =>
                  open ? (
                    <Suspense fallback={<p className="muted">Loading the query panel…</p>}>
                      <QueryPanel source={`drill:${drill.id}`} initialQuery={FIRST_QUERY} onPin={pin} pinLabel="Pin to the incident log" />
                    </Suspense>
                  ) : (
                    <Closed drill={drill} what="audit" />
                  ),
              },
            ]}
          />
        </div>
        <div className="drill-side">
          <section className="drill-card" aria-labelledby="drill-log-title">
            <h2 id="drill-log-title">Incident log</h2>
            <DrillLog log={log} loadedSeq={loadedSeq} />
            <LogComposer onPost={postLog} busy={busy === 'log'} disabled={ended} />
          </section>
          <Scoreboard rows={drill.scoreboard} />
          <Findings questions={drill.questions ?? []} onSave={answer} busy={busy === 'answers'} disabled={drill.state !== 'running' && drill.state !== 'paused'} />
          <Participants participants={drill.participants} you={drill.you.id} watching={watched?.id ?? null} onWatch={(p) => {
              setWatching(p);
              // The watched shell shows under the Terminal tab.
              if (p) setTab('terminal');
            }} />
          <Expectations items={drill.expectations} />
        </div>
      </div>
    </section>
  );
}
