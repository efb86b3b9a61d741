import { useEffect, useId, useState } from 'react';
import type { CreateDrillResponse, DrillScenarioSummary } from '../lib/drill-view.ts';
import { drillApi } from '../stores/drill-store.ts';
import { EngineBadge } from './lab/EngineBadge.tsx';
import '../styles/drills.css';

/** What the facilitator gets once: the links to share and the one to keep. */
function Created({ created }: { created: CreateDrillResponse }) {
  const { drill, facilitatorToken } = created;
  const joinLink = `${location.origin}/drills/join?code=${encodeURIComponent(drill.code)}&roles=${encodeURIComponent(drill.roles.join(','))}`;
  const facilitatorLink = `${location.origin}/drills/${encodeURIComponent(drill.id)}/facilitate#token=${encodeURIComponent(facilitatorToken)}`;
  const [copied, setCopied] = useState('');
  const copy = async (what: string, text: string) => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(`${what} copied.`);
    } catch {
      setCopied('Copying is not allowed here; select the text instead.');
    }
  };
  return (
    <section className="drill-card drill-created" aria-labelledby="drill-created-title" data-testid="drill-created">
      <h2 id="drill-created-title" tabIndex={-1} ref={(el) => el?.focus()}>
        Drill “{drill.title}” created
      </h2>
      <dl className="drill-links">
        <dt>Join code</dt>
        <dd>
          <code className="drill-code" data-testid="drill-code">
            {drill.code}
          </code>
        </dd>
        <dt>Join link (share it with the team)</dt>
        <dd>
          <a href={joinLink} data-testid="drill-join-link">
            {joinLink}
          </a>{' '}
          <button type="button" onClick={() => copy('Join link', joinLink)}>
            Copy
          </button>
        </dd>
        <dt>Facilitator link (keep it to yourself)</dt>
        <dd>
          <a href={facilitatorLink} data-testid="drill-facilitator-link">
            Open the facilitator console
          </a>{' '}
          <button type="button" onClick={() => copy('Facilitator link', facilitatorLink)}>
            Copy
          </button>
        </dd>
      </dl>
      <p className="drill-warning" role="note">
        <strong>Keep the facilitator link secret.</strong> Anyone who has it can start, pause and end the drill and see what is coming. It is
        shown only now; irlab keeps only a hash of its token.
      </p>
      <p role="status" aria-live="polite">
        {copied}
      </p>
    </section>
  );
}

/** `/drills`: the scenarios that ship a drill, and the form that creates one. */
export default function DrillLobby() {
  const id = useId();
  const [scenarios, setScenarios] = useState<DrillScenarioSummary[] | null>(null);
  const [error, setError] = useState('');
  const [scenario, setScenario] = useState('');
  const [title, setTitle] = useState('');
  const [duration, setDuration] = useState(60);
  const [roles, setRoles] = useState<string[]>([]);
  const [newRole, setNewRole] = useState('');
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<CreateDrillResponse | null>(null);

  useEffect(() => {
    drillApi<DrillScenarioSummary[]>('/api/drills/scenarios')
      .then((list) => {
        setScenarios(list);
        const first = list.find((s) => !s.engine.unavailable) ?? list[0];
        if (first) choose(first);
      })
      .catch((e: Error) => setError(e.message));
  }, []);
  const choose = (s: DrillScenarioSummary) => {
    setScenario(s.slug);
    setDuration(s.defaultDurationMinutes);
    setRoles(s.roles);
  };

  if (created) return <Created created={created} />;
  // A drill this server cannot run (its lab needs kind; drills run on the embedded pool): Create is off, the reason in view.
  const cannotStart = scenarios?.find((s) => s.slug === scenario)?.engine.unavailable;
  return (
    <>
      <section aria-labelledby={`${id}-scenarios`}>
        <h2 id={`${id}-scenarios`}>Scenarios with a drill</h2>
        {scenarios === null && !error && <p className="muted">Loading the scenarios…</p>}
        {scenarios?.length === 0 && <p>No scenario ships a drill.yaml yet.</p>}
        <ul className="cards">
          {scenarios?.map((s) => (
            <li key={s.slug} data-unavailable={s.engine.unavailable ? 'true' : undefined}>
              <h3>{s.title}</h3>
              <EngineBadge engine={s.engine} id={`${id}-engine-${s.slug}`} activity="drill" />
              <p>{s.summary}</p>
              <p className="muted">
                {s.defaultDurationMinutes} min · roles: {s.roles.join(', ')}
              </p>
              {s.engine.unavailable && <p className="drill-unavailable">Cannot start on this server: it {s.engine.unavailable.reason}.</p>}
            </li>
          ))}
        </ul>
      </section>
      {scenarios && scenarios.length > 0 && (
        <form
          className="drill-card drill-form"
          aria-labelledby={`${id}-create`}
          onSubmit={async (e) => {
            e.preventDefault();
            setBusy(true);
            setError('');
            try {
              setCreated(await drillApi<CreateDrillResponse>('/api/drills', { method: 'POST', body: JSON.stringify({ scenario, title: title.trim() || undefined, durationMinutes: duration, roles }) }));
            } catch (failure) {
              setError((failure as Error).message);
            } finally {
              setBusy(false);
            }
          }}
        >
          <h2 id={`${id}-create`}>Create a drill</h2>
          <label htmlFor={`${id}-scenario`}>Scenario</label>
          <select id={`${id}-scenario`} value={scenario} onChange={(e) => choose(scenarios.find((s) => s.slug === e.target.value)!)}>
            {scenarios.map((s) => (
              <option key={s.slug} value={s.slug}>
                {s.title}
                {s.engine.unavailable ? ` (${s.engine.badge}: cannot start here)` : ''}
              </option>
            ))}
          </select>
          <label htmlFor={`${id}-title`}>Title (optional)</label>
          <input id={`${id}-title`} value={title} maxLength={120} onChange={(e) => setTitle(e.target.value)} placeholder="e.g. Payments team, Friday drill" />
          <label htmlFor={`${id}-duration`}>Duration (minutes)</label>
          <input id={`${id}-duration`} type="number" min={5} max={480} required value={duration} onChange={(e) => setDuration(Number(e.target.value))} />
          <fieldset>
            <legend>Roles</legend>
            <ul className="drill-roles">
              {roles.map((role) => (
                <li key={role}>
                  {role}{' '}
                  <button type="button" aria-label={`Remove role ${role}`} onClick={() => setRoles(roles.filter((r) => r !== role))}>
                    ×
                  </button>
                </li>
              ))}
            </ul>
            <label htmlFor={`${id}-role`}>Add a role</label>{' '}
            <input id={`${id}-role`} value={newRole} maxLength={60} onChange={(e) => setNewRole(e.target.value)} />{' '}
            <button
              type="button"
              disabled={!newRole.trim() || roles.includes(newRole.trim())}
              onClick={() => {
                setRoles([...roles, newRole.trim()]);
                setNewRole('');
              }}
            >
              Add role
            </button>
          </fieldset>
          {cannotStart && (
            <p id={`${id}-cannot-start`} className="drill-unavailable" role="status">
              This drill cannot start on this server: it {cannotStart.reason}. For the operator: {cannotStart.operator}.
            </p>
          )}
          <button type="submit" className="primary" disabled={busy || roles.length === 0 || Boolean(cannotStart)} aria-describedby={cannotStart ? `${id}-cannot-start` : undefined}>
            {busy ? 'Creating…' : 'Create the drill'}
          </button>
        </form>
      )}
      {error && (
        <p className="drill-error" role="alert">
          {error}
        </p>
      )}
    </>
  );
}
