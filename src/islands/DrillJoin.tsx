import { useEffect, useId, useState } from 'react';
import type { JoinDrillResponse } from '../lib/drill-view.ts';
import { drillApi } from '../stores/drill-store.ts';
import '../styles/drills.css';

/**
 * The usual roles; a drill may define others, so "another role" takes free text (the server
 * checks it against the drill's roles and says which exist).
 */
const usualRoles = ['incident commander', 'investigator', 'containment', 'communications'];
const OTHER = '\u0000other';

/** `/drills/join`: code (from `?code=` or typed), name and role, then into the room. */
export default function DrillJoin() {
  const id = useId();
  const [code, setCode] = useState('');
  const [name, setName] = useState('');
  const [roles, setRoles] = useState(usualRoles);
  const [choice, setChoice] = useState('');
  const [otherRole, setOtherRole] = useState('');
  const role = choice === OTHER ? otherRole.trim() : choice;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  useEffect(() => {
    const fromQuery = new URLSearchParams(location.search).get('code');
    if (fromQuery) setCode(fromQuery.toUpperCase());
    // The join link names the drill's roles (they are no secret), so the picker shows the real ones.
    const named = (new URLSearchParams(location.search).get('roles') ?? '').split(',').map((r) => r.trim()).filter(Boolean);
    if (named.length) setRoles(named);
  }, []);
  return (
    <form
      className="drill-card drill-form"
      aria-labelledby={`${id}-title`}
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError('');
        try {
          const joined = await drillApi<JoinDrillResponse>('/api/drills/join', { method: 'POST', body: JSON.stringify({ code: code.trim(), name: name.trim(), role }) });
          location.assign(`/drills/${encodeURIComponent(joined.drill.id)}`);
        } catch (failure) {
          setError((failure as Error).message);
          setBusy(false);
        }
      }}
    >
      <h1 id={`${id}-title`}>Join a drill</h1>
      <label htmlFor={`${id}-code`}>Join code</label>
      <input
        id={`${id}-code`}
        value={code}
        required
        autoComplete="off"
        autoCapitalize="characters"
        spellCheck={false}
        maxLength={16}
        onChange={(e) => setCode(e.target.value.toUpperCase())}
      />
      <label htmlFor={`${id}-name`}>Your name</label>
      <input id={`${id}-name`} value={name} required maxLength={60} autoComplete="name" onChange={(e) => setName(e.target.value)} />
      <fieldset>
        <legend>Your role</legend>
        <div className="drill-role-picker">
          {roles.map((r) => (
            <label key={r}>
              <input type="radio" name={`${id}-role`} value={r} checked={choice === r} required onChange={() => setChoice(r)} /> {r}
            </label>
          ))}
          <label>
            <input type="radio" name={`${id}-role`} value="other" checked={choice === OTHER} onChange={() => setChoice(OTHER)} /> another role
          </label>
        </div>
        {choice === OTHER && (
          <>
            <label htmlFor={`${id}-other`}>Role name (as the facilitator named it)</label>
            <input id={`${id}-other`} value={otherRole} maxLength={60} required onChange={(e) => setOtherRole(e.target.value)} />
          </>
        )}
      </fieldset>
      <button type="submit" className="primary" disabled={busy || !code.trim() || !name.trim() || !role}>
        {busy ? 'Joining…' : 'Join the drill'}
      </button>
      {error && (
        <p className="drill-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
