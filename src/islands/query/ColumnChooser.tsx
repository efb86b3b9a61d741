import { useId } from 'react';
import { COLUMNS, DEFAULT_COLUMNS } from '../../lib/query/columns.ts';

interface Props {
  chosen: string[];
  onChange: (columns: string[]) => void;
}

/** Which columns the events table shows (remembered in this browser); native checkboxes in a disclosure. */
export function ColumnChooser({ chosen, onChange }: Props) {
  const id = useId();
  const shown = COLUMNS.filter((c) => chosen.includes(c.id)).length;
  return (
    <details className="qp-columns">
      <summary>
        Columns <span className="muted">({shown} of {COLUMNS.length})</span>
      </summary>
      <fieldset>
        <legend className="visually-hidden">Columns of the events table</legend>
        {COLUMNS.map((c) => (
          <label key={c.id} htmlFor={`${id}-${c.id}`}>
            <input
              id={`${id}-${c.id}`}
              type="checkbox"
              checked={chosen.includes(c.id)}
              onChange={(e) => onChange(e.target.checked ? [...chosen, c.id] : chosen.filter((x) => x !== c.id))}
            />{' '}
            {c.label}
          </label>
        ))}
        <button type="button" onClick={() => onChange([...DEFAULT_COLUMNS])}>
          Default columns
        </button>
      </fieldset>
    </details>
  );
}
