import { useEffect, useId, useRef, useState } from 'react';
import type { JoinDrillResponse } from '../lib/drill-view.ts';
import { drillApi } from '../stores/drill-store.ts';
import '../styles/drills.css';
import { fieldText, useFormSubmit } from './use-form-submit.ts';

/**
 * The usual roles, spelt as the shipped drills spell them (the server compares exactly); a drill
 * may define others, so "another role" takes free text (the server checks it against the drill's
 * roles and says which exist). A join link names the drill's own roles instead.
 */
const usualRoles = ['Incident commander', 'Investigator', 'Containment', 'Communications'];
/** The "another role" radio's value: no role name is empty (the drill schema wants two characters). */
const OTHER = '';

/** Whether two role names are the same role as far as a person picking one is concerned. */
const sameRole = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * `/drills/join`: code (from `?code=` or typed), name and role, then into the room. The inputs are
 * uncontrolled and read at submit (use-form-submit.ts): the page is prerendered, so a person may
 * type before the island hydrates, and React's state would never have seen it.
 */
export default function DrillJoin() {
  const id = useId();
  const form = useRef<HTMLFormElement>(null);
  const [roles, setRoles] = useState(usualRoles);
  /** The picked radio's value ('' for "another role"), kept so that the role-name field shows and
   * a pick made before hydration survives the swap to the roles the join link names. */
  const [choice, setChoice] = useState<string | null>(null);
  const { ready, busy, error, onSubmit } = useFormSubmit(
    (fields) => {
      const picked = fieldText(fields, 'role');
      const role = picked === OTHER ? fieldText(fields, 'otherRole').trim() : picked;
      return drillApi<JoinDrillResponse>('/api/drills/join', { method: 'POST', body: JSON.stringify({ code: fieldText(fields, 'code').trim().toUpperCase(), name: fieldText(fields, 'name').trim(), role }) });
    },
    (joined) => location.assign(`/drills/${encodeURIComponent(joined.drill.id)}`),
  );
  useEffect(() => {
    const query = new URLSearchParams(location.search);
    const code = form.current?.elements.namedItem('code');
    const fromQuery = query.get('code');
    // What the person typed wins over the link's code.
    if (fromQuery && code instanceof HTMLInputElement && !code.value) code.value = fromQuery;
    const picked = form.current?.querySelector<HTMLInputElement>('input[name="role"]:checked')?.value ?? null;
    // The join link names the drill's roles (they are no secret), so the picker shows the real ones.
    const named = (query.get('roles') ?? '').split(',').map((r) => r.trim()).filter(Boolean);
    if (named.length) setRoles(named);
    setChoice(picked === null || picked === OTHER || !named.length ? picked : (named.find((r) => sameRole(r, picked)) ?? null));
  }, []);
  return (
    <form ref={form} className="drill-card drill-form" aria-labelledby={`${id}-title`} onSubmit={onSubmit}>
      <h1 id={`${id}-title`}>Join a drill</h1>
      <label htmlFor={`${id}-code`}>Join code</label>
      <input id={`${id}-code`} name="code" required autoComplete="off" autoCapitalize="characters" spellCheck={false} maxLength={16} />
      <label htmlFor={`${id}-name`}>Your name</label>
      <input id={`${id}-name`} name="name" required maxLength={60} autoComplete="name" />
      <fieldset>
        <legend>Your role</legend>
        <div className="drill-role-picker">
          {roles.map((r) => (
            <label key={r}>
              <input type="radio" name="role" value={r} defaultChecked={choice === r} required onChange={() => setChoice(r)} /> {r}
            </label>
          ))}
          <label>
            <input type="radio" name="role" value={OTHER} defaultChecked={choice === OTHER} onChange={() => setChoice(OTHER)} /> another role
          </label>
        </div>
        {choice === OTHER && (
          <>
            <label htmlFor={`${id}-other`}>Role name (as the facilitator named it)</label>
            <input id={`${id}-other`} name="otherRole" maxLength={60} required />
          </>
        )}
      </fieldset>
      <button type="submit" className="primary" disabled={!ready || busy}>
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
