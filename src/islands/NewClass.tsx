import { useId, useState } from 'react';
import { classApi } from '../lib/class-api.ts';
import '../styles/classes.css';

/** The instructor's form for a new class: a name, then the class's dashboard with its join code. */
export default function NewClass() {
  const id = useId();
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  return (
    <form
      className="class-form"
      aria-labelledby={`${id}-title`}
      onSubmit={async (e) => {
        e.preventDefault();
        // From the form: a name typed before the island hydrated was never in React's state.
        const name = String(new FormData(e.currentTarget).get('name') ?? '');
        setBusy(true);
        setError('');
        try {
          const created = await classApi<{ id: string }>('/api/classes', { name });
          location.assign(`/instructor/classes/${encodeURIComponent(created.id)}`);
        } catch (failure) {
          setError((failure as Error).message);
          setBusy(false);
        }
      }}
    >
      <h2 id={`${id}-title`}>New class</h2>
      <label htmlFor={`${id}-name`}>Class name</label>
      <input id={`${id}-name`} name="name" required maxLength={80} />
      <button type="submit" disabled={busy}>Create the class</button>
      <p role="alert" className="class-error">{error}</p>
    </form>
  );
}
