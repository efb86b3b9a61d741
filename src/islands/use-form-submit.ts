import { useEffect, useState, type FormEvent } from 'react';

/** A field of a submitted form as text ('' when absent). */
export function fieldText(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === 'string' ? value : '';
}

export interface FormSubmit {
  /** False until the island has hydrated: the submit button stays disabled so that neither a
   * click nor Enter submits the bare form natively (a GET putting the fields in the address). */
  ready: boolean;
  /** True from submit until the answer fails (on success the page goes elsewhere or the form is replaced). */
  busy: boolean;
  /** The server's reason the last submit failed, or ''. */
  error: string;
  onSubmit: (event: FormEvent<HTMLFormElement>) => Promise<void>;
}

/**
 * The submit of a form whose inputs are uncontrolled: the fields are read from the form itself
 * (FormData) at submit, because what a person typed before the island hydrated is in the inputs
 * but was never in React's state (a controlled input even gets the server's empty value back at
 * hydration). `send` makes the request (it throws with the server's reason); `done` takes the
 * answer (a redirect, or a view of it).
 */
export function useFormSubmit<T>(send: (form: FormData) => Promise<T>, done: (answer: T) => void): FormSubmit {
  const [ready, setReady] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  useEffect(() => setReady(true), []);
  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError('');
    try {
      done(await send(form));
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
      setBusy(false);
    }
  };
  return { ready, busy, error, onSubmit };
}
