import type { FieldTop } from '../../lib/query/summary.ts';

interface Props {
  fields: FieldTop[];
  marked: string[];
  onFilter: (field: string, value: string | number) => void;
  onMark: (username: string) => void;
}

/** Top values per field: a value adds a filter to the query; an identity can be marked. */
export function FieldSidebar({ fields, marked, onFilter, onMark }: Props) {
  return (
    <aside className="qp-fields" aria-label="Top values of the matching events">
      {fields
        .filter((f) => f.present > 0)
        .map((f) => (
          <section key={f.field}>
            <h3>
              <code>{f.field}</code>
            </h3>
            <ul>
              {f.values.map((v) => (
                <li key={String(v.value)}>
                  <button type="button" className="qp-link" onClick={() => onFilter(f.field, v.value)} title={`add ${f.field} == ${JSON.stringify(v.value)} to the query`}>
                    {String(v.value)}
                  </button>{' '}
                  <span className="muted">{v.count}</span>
                  {f.field === 'user.username' && typeof v.value === 'string' && (
                    <button type="button" className="qp-mark" aria-pressed={marked.includes(v.value)} onClick={() => onMark(v.value as string)} aria-label={`mark ${v.value} as suspicious`}>
                      {marked.includes(v.value) ? 'marked' : 'mark'}
                    </button>
                  )}
                </li>
              ))}
              {f.other > 0 && <li className="muted">and {f.other} in other values</li>}
            </ul>
          </section>
        ))}
    </aside>
  );
}
