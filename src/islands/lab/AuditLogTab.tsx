import { lazy, Suspense } from 'react';

// The query panel (parser, evaluator) loads only once its tab is first shown.
const QueryPanel = lazy(() => import('../QueryPanel.tsx'));

const FIRST_QUERY = 'user.username == "system:serviceaccount:*" AND objectRef.resource == "secrets" | count by user.username';

/** The Audit log tab: the query panel over the audit log of this lab's cluster. */
export function AuditLogTab({ cluster }: { cluster: string }) {
  return (
    <Suspense fallback={<p className="muted">Loading the query panel…</p>}>
      <QueryPanel key={`q-${cluster}`} source="lab" initialQuery={FIRST_QUERY} />
    </Suspense>
  );
}
