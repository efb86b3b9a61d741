import { useId, useState } from 'react';
import { classApi } from '../lib/class-api.ts';
import '../styles/classes.css';
import { fieldText, useFormSubmit } from './use-form-submit.ts';

interface Joined {
  classId: string;
  name: string;
  href: string;
  rejoinKey?: string;
}

/** `/classes/join` and the join link: the code (prefilled from the link), a name, and, on another device, the rejoin key. */
export default function ClassJoin({ code: given = '', name: known = '' }: { code?: string; name?: string }) {
  const id = useId();
  const [joined, setJoined] = useState<Joined | null>(null);
  const { ready, busy, error, onSubmit } = useFormSubmit(
    (form) => {
      const rejoinKey = fieldText(form, 'rejoinKey').trim().toUpperCase();
      return classApi<Joined>('/api/classes/join', { code: fieldText(form, 'code').toUpperCase(), name: fieldText(form, 'name'), ...(rejoinKey ? { rejoinKey } : {}) });
    },
    (answer) => (answer.rejoinKey ? setJoined(answer) : location.assign(answer.href)),
  );
  if (joined) {
    return (
      <section className="class-card" aria-labelledby={`${id}-in`} data-testid="class-joined">
        <h1 id={`${id}-in`}>You are in, {joined.name}</h1>
        {joined.rejoinKey && (
          <p>
            To continue on another device, you will need your name, the join code and this rejoin key:{' '}
            <strong className="class-code" data-testid="rejoin-key">{joined.rejoinKey}</strong>. Write it down: it is shown only now.
          </p>
        )}
        <p>
          <a className="button" href={joined.href}>Go to your class</a>
        </p>
      </section>
    );
  }
  return (
    <form
      className="class-card class-form"
      aria-labelledby={`${id}-title`}
      onSubmit={onSubmit}
    >
      <h1 id={`${id}-title`}>Join a class</h1>
      <label htmlFor={`${id}-code`}>Join code</label>
      <input id={`${id}-code`} name="code" defaultValue={given} required autoComplete="off" autoCapitalize="characters" spellCheck={false} maxLength={16} />
      <label htmlFor={`${id}-name`}>Your name (as your instructor will see it)</label>
      <input id={`${id}-name`} name="name" defaultValue={known} required maxLength={40} autoComplete="name" />
      <details>
        <summary>Joined already, on another device?</summary>
        <label htmlFor={`${id}-key`}>Rejoin key (shown when you first joined)</label>
        <input id={`${id}-key`} name="rejoinKey" autoComplete="off" autoCapitalize="characters" spellCheck={false} maxLength={16} />
      </details>
      <button type="submit" disabled={!ready || busy}>{busy ? 'Joining…' : 'Join'}</button>
      <p role="alert" className="class-error">{error}</p>
    </form>
  );
}
