import { lazy, Suspense } from 'react';
import type { Ev } from '../../lib/query/columns.ts';
import { eventSummaryMarkdown } from '../../lib/query/event-summary.ts';
import { useNotesStore } from '../../stores/notes-store.ts';

// The query panel (parser, evaluator) loads only once its tab is first shown.
const QueryPanel = lazy(() => import('../QueryPanel.tsx'));

const FIRST_QUERY = 'user.username == "system:serviceaccount:*" AND objectRef.resource == "secrets" | count by user.username';

/** An opened event goes into the learner's case notes (the Notes tab) as a short Markdown summary. */
async function pinToNotes(event: Ev): Promise<string> {
  useNotesStore.getState().append(eventSummaryMarkdown(event));
  return 'Pinned to your case notes (the Notes tab).';
}

/** The Audit log tab: the query panel over the audit log of this lab's cluster. */
export function AuditLogTab({ cluster }: { cluster: string }) {
  return (
    <Suspense fallback={<p className="muted">Loading the query panel…</p>}>
      <QueryPanel key={`q-${cluster}`} source="lab" initialQuery={FIRST_QUERY} onPin={pinToNotes} pinLabel="Pin to case notes" />
    </Suspense>
  );
}
