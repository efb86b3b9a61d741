import { useId, useState, type FormEvent } from 'react';

import { NODE_EVIDENCE_COLLECTIONS, NODE_EVIDENCE_HELP, type NodeEvidenceCollection } from '../../lib/node-evidence-collections.ts';

/** As the server answers (src/server/lab/lab-node-evidence.ts). */
interface Collected {
  file: string;
  bytes: number;
  truncated: boolean;
  exitCode: number;
  error?: string;
}

/**
 * Collecting from the lab's node, on labs whose pods run on a real node (kind): a shell there
 * would be root on the machine that runs the lab, so irlab collects for the learner, read-only,
 * into `node-evidence/` in their workspace. `onCollected` shows the new file.
 */
export function NodeEvidenceForm({ slug, onCollected }: { slug: string; onCollected: (file: string) => void }) {
  const id = useId();
  const [collection, setCollection] = useState<NodeEvidenceCollection>('containers');
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState<{ ok: boolean; text: string }>();
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const args = String(data.get('args') ?? '').trim().split(/\s+/).filter(Boolean);
    setBusy(true);
    setStatus(undefined);
    try {
      const response = await fetch(`/api/labs/${encodeURIComponent(slug)}/node-evidence`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ collection: data.get('collection'), args }),
      });
      const body = (await response.json().catch(() => ({}))) as Collected & { error?: string };
      if (!response.ok) {
        setStatus({ ok: false, text: body.error ?? `the server answered ${response.status}` });
        return;
      }
      const notes = [body.truncated ? 'cut at its size limit' : '', body.exitCode ? `the node said: ${body.error ?? `exit ${body.exitCode}`}` : ''].filter(Boolean).join('; ');
      setStatus({ ok: body.exitCode === 0, text: `Saved ${body.file} (${body.bytes} bytes)${notes ? `: ${notes}` : ''}.` });
      onCollected(body.file);
    } catch (caught) {
      setStatus({ ok: false, text: `The collection could not be asked for: ${(caught as Error).message}` });
    } finally {
      setBusy(false);
    }
  };
  const help = NODE_EVIDENCE_HELP[collection];
  return (
    <form className="lab-node-evidence" onSubmit={(event) => void submit(event)} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>Collect from the node</h3>
      <p className="muted">You get no shell on the node: irlab collects from it for you, read-only, into <code>node-evidence/</code>.</p>
      <label htmlFor={`${id}-collection`}>Collection</label>
      <select id={`${id}-collection`} name="collection" value={collection} onChange={(event) => setCollection(event.target.value as NodeEvidenceCollection)}>
        {NODE_EVIDENCE_COLLECTIONS.map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
      <label htmlFor={`${id}-args`}>Arguments</label>
      <input id={`${id}-args`} name="args" type="text" autoComplete="off" spellCheck={false} aria-describedby={`${id}-help`} disabled={help.args === 'none'} />
      <p id={`${id}-help`} className="muted">
        Takes {help.args}; gives {help.gives}.
      </p>
      <button type="submit" disabled={busy}>
        {busy ? 'Collecting…' : 'Collect'}
      </button>
      <p role="status" className={status && !status.ok ? 'lab-error' : 'muted'}>
        {status?.text ?? ''}
      </p>
    </form>
  );
}
