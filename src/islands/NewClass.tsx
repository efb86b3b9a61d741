import { useId } from 'react';
import { classApi } from '../lib/class-api.ts';
import '../styles/classes.css';
import { fieldText, useFormSubmit } from './use-form-submit.ts';

/** The instructor's form for a new class: a name, then the class's dashboard with its join code. */
export default function NewClass() {
  const id = useId();
  const { ready, busy, error, onSubmit } = useFormSubmit(
    (form) => classApi<{ id: string }>('/api/classes', { name: fieldText(form, 'name') }),
    (created) => location.assign(`/instructor/classes/${encodeURIComponent(created.id)}`),
  );
  return (
    <form
      className="class-form"
      aria-labelledby={`${id}-title`}
      onSubmit={onSubmit}
    >
      <h2 id={`${id}-title`}>New class</h2>
      <label htmlFor={`${id}-name`}>Class name</label>
      <input id={`${id}-name`} name="name" required maxLength={80} />
      <button type="submit" disabled={!ready || busy}>Create the class</button>
      <p role="alert" className="class-error">{error}</p>
    </form>
  );
}
