import { useCallback, useEffect, useState } from 'react';
import { useLabStore } from '../../stores/lab-store.ts';
import { NodeEvidenceForm } from './NodeEvidenceForm.tsx';

/** As the server sends them (workspace-listing.ts). */
interface Entry {
  path: string;
  kind: 'file' | 'directory' | 'symlink' | 'other';
  size: number;
  modifiedAt: string;
  unreadable?: string;
}
type FileView = { path: string; size: number; kind: 'text'; text: string } | { path: string; size: number; kind: 'binary' } | { path: string; kind: 'refused'; reason: string };

/**
 * A name as the learner's shell made it, shown as text: control characters (escape sequences, tabs,
 * newlines) become visible `\xNN` escapes rather than acting. React renders it as text, never markup.
 */
export function printable(name: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is replaced
  return name.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  const data = (await response.json().catch(() => ({}))) as T & { error?: string };
  if (!response.ok) throw new Error(data.error ?? `the server answered ${response.status}`);
  return data;
}

/** The Files tab: the evidence in the learner's workspace, read-only, with a refresh. */
export function FilesTab() {
  const slug = useLabStore((s) => s.slug);
  const cluster = useLabStore((s) => s.lab?.run?.cluster);
  // A real node (kind) to collect from, and a run on it.
  const onNode = useLabStore((s) => s.lab?.engine.engine === 'kind' && !s.lab.engine.unavailable && !!s.lab.run);
  const [entries, setEntries] = useState<Entry[] | undefined>();
  const [truncated, setTruncated] = useState(false);
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(false);
  const [open, setOpen] = useState<FileView>();
  const base = `/api/labs/${encodeURIComponent(slug)}/files`;
  const refresh = useCallback(async () => {
    if (!slug) return;
    setLoading(true);
    try {
      const listing = await getJson<{ entries: Entry[]; truncated: boolean }>(base);
      setEntries(listing.entries);
      setTruncated(listing.truncated);
      setError(undefined);
    } catch (caught) {
      setError(`The files could not be listed: ${(caught as Error).message}`);
    } finally {
      setLoading(false);
    }
  }, [base, slug]);
  useEffect(() => {
    void refresh();
  }, [refresh, cluster]);
  const view = async (path: string) => {
    try {
      setOpen(await getJson<FileView>(`${base}?path=${encodeURIComponent(path)}`));
    } catch (caught) {
      setOpen({ path, kind: 'refused', reason: (caught as Error).message });
    }
  };
  return (
    <div className="lab-files">
      <div className="lab-files-head">
        <p className="muted">Your workspace (your shell&apos;s home directory), read-only. Write files from the terminal; they stay when the lab is reset.</p>
        <button type="button" onClick={() => void refresh()} disabled={loading}>
          {loading ? 'Refreshing…' : 'Refresh'}
        </button>
      </div>
      {onNode && (
        <NodeEvidenceForm
          slug={slug}
          onCollected={(file) => {
            void refresh();
            void view(file);
          }}
        />
      )}
      {error && (
        <p className="lab-error" role="alert">
          {error}
        </p>
      )}
      {entries && entries.length === 0 && <p className="muted">No files yet. Save evidence from the terminal, for example: <code>kubectl get pod NAME -o yaml &gt; pod.yaml</code></p>}
      {entries && entries.length > 0 && (
        <table className="lab-files-table">
          <caption className="visually-hidden">Files in your workspace</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Size</th>
              <th scope="col">Modified</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((entry) => (
              <tr key={entry.path}>
                <th scope="row" className="lab-files-name">
                  {entry.kind === 'file' && !entry.unreadable ? (
                    <button type="button" className="link" onClick={() => void view(entry.path)} aria-pressed={open?.path === entry.path}>
                      {printable(entry.path)}
                    </button>
                  ) : (
                    <span>
                      {printable(entry.path)}
                      {entry.kind === 'directory' ? '/' : ''}
                    </span>
                  )}
                  {entry.unreadable && <span className="muted"> ({entry.unreadable})</span>}
                </th>
                <td>{entry.kind === 'directory' ? '—' : size(entry.size)}</td>
                <td>
                  <time dateTime={entry.modifiedAt}>{new Date(entry.modifiedAt).toLocaleString()}</time>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {truncated && <p className="muted">Only the first entries are listed; use <code>ls</code> in the terminal for the rest.</p>}
      {open && (
        <section className="lab-file-view" aria-label={`Content of ${printable(open.path)}`}>
          <h3>{printable(open.path)}</h3>
          {open.kind === 'text' && <pre tabIndex={0}>{open.text}</pre>}
          {open.kind === 'binary' && <p className="muted">A binary file ({size(open.size)}): not shown. Inspect it in the terminal (<code>file</code>, <code>xxd | head</code>).</p>}
          {open.kind === 'refused' && <p className="lab-error">{open.reason}</p>}
        </section>
      )}
    </div>
  );
}
