import { useCallback, useEffect, useState } from 'react';
import { classApi } from '../lib/class-api.ts';
import type { ClassNotices as Notices } from '../lib/class-view.ts';
import '../styles/classes.css';

const POLL_MS = 5000;

/**
 * On the lab page: messages from the learner's instructors (as text, each dismissable) and a
 * visible sign while an instructor watches their terminal. Nothing shows for a learner in no class.
 */
export default function ClassNotices() {
  const [state, setState] = useState<Notices>({ watched: false, notices: [] });
  const load = useCallback(async () => {
    try {
      setState(await classApi<Notices>('/api/classes/notices'));
    } catch {
      // Kept as it was: the next poll tries again.
    }
  }, []);
  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), POLL_MS);
    return () => clearInterval(timer);
  }, [load]);
  if (!state.watched && state.notices.length === 0) return null;
  return (
    <aside className="class-notices" aria-label="From your instructor">
      {state.watched && (
        <p className="class-watched" role="status" data-testid="watched-indicator">
          <span aria-hidden="true">👁 </span>Your instructor is watching your terminal (read-only).
        </p>
      )}
      {state.notices.map((notice) => (
        <div className="class-notice" role="status" key={notice.id} data-testid="class-notice">
          <p className="class-notice-from">{notice.toClass ? `To ${notice.className}` : `To you, from ${notice.className}`}</p>
          <p className="class-notice-text">{notice.text}</p>
          <button type="button" onClick={async () => setState(await classApi<Notices>('/api/classes/notices', { dismiss: notice.id }).catch(() => state))}>
            Dismiss
          </button>
        </div>
      ))}
    </aside>
  );
}
