import { FitAddon } from '@xterm/addon-fit';
import type { SearchAddon } from '@xterm/addon-search';
import { SerializeAddon } from '@xterm/addon-serialize';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { Terminal as XTerm } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import '../styles/terminal.css';
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { TerminalClient, type ConnectionStatus, type SocketLike } from '../lib/terminal-client.ts';
import { SessionError, type SessionInfo, type SessionSource } from '../lib/terminal-session.ts';
import { useTerminalInput } from '../stores/terminal-input.ts';
import { useTerminalStore } from '../stores/terminal-store.ts';

export { SessionError, type SessionInfo, type SessionSource };

interface Props {
  /** Accessible name of the terminal region, e.g. "Shell for lab L18". */
  label?: string;
  /** Where the session comes from; by default the learner's own (`POST /api/terminal/session`). */
  session?: SessionSource;
  /** Watch someone else's shell: keystrokes and resizes are never sent, and nothing is saved. */
  readOnly?: boolean;
  /** Which of the learner's own shells (1, or 2: the lab page's second terminal); ignored with `session`. */
  slot?: 1 | 2;
  /** Keys the page handles (workspace shortcuts): xterm lets them through instead of sending them to the shell. */
  passKey?: (event: KeyboardEvent) => boolean;
  /** The page's main terminal: types what "Run in terminal" asks (src/stores/terminal-input.ts). Never for a read-only one. */
  takesInput?: boolean;
}

/** The learner's own session in a slot (the /terminal page and labs; slot 2 is a lab's second terminal). */
const ownSession =
  (slot: 1 | 2): SessionSource =>
  async ({ cols, rows }, fresh) => {
    const response = await fetch('/api/terminal/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ cols, rows, fresh, slot }),
    });
    const body = (await response.json().catch(() => ({}))) as SessionInfo & { error?: string };
    if (!response.ok || body.error) throw new SessionError(body.error ?? `The server answered ${response.status}.`);
    return body;
  };
const OWN_SESSIONS = { 1: ownSession(1), 2: ownSession(2) } as const;

/** Screen contents saved across a reload of this tab, so the shell reappears as it was. */
interface Snapshot {
  sessionId: string;
  seq: number;
  screen: string;
}
const snapshotKey = (slot: number) => (slot === 1 ? 'irlab-terminal-snapshot' : `irlab-terminal-snapshot-${slot}`);

function readSnapshot(sessionId: string, slot: number): Snapshot | null {
  try {
    const snapshot = JSON.parse(sessionStorage.getItem(snapshotKey(slot)) ?? 'null') as Snapshot | null;
    return snapshot?.sessionId === sessionId ? snapshot : null;
  } catch {
    return null;
  }
}

/** Plain text of the whole scrollback, wrapped lines joined back. */
function transcript(term: XTerm): string {
  const buffer = term.buffer.active;
  const lines: string[] = [];
  for (let i = 0; i < buffer.length; i++) {
    const line = buffer.getLine(i);
    if (!line) continue;
    const text = line.translateToString(true);
    if (line.isWrapped && lines.length) lines[lines.length - 1] += text;
    else lines.push(text);
  }
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines.join('\n') + '\n';
}

/**
 * The learner's shell in the browser: xterm.js over one WebSocket to a sandboxed PTY on the
 * server (protocol: src/lib/terminal-protocol.ts). Reconnects by itself, says what it is doing
 * in a live region, and leaves the keyboard trap with Shift+Tab.
 */
export default function Terminal({ label = 'Terminal', session: given, readOnly = false, slot = 1, passKey, takesInput = false }: Props) {
  const session = given ?? OWN_SESSIONS[slot];
  // Read through a ref: a new predicate each render must not restart the terminal.
  const passKeyRef = useRef(passKey);
  passKeyRef.current = passKey;
  /** Focus asked for while the terminal was hidden (its tab not shown yet): given once it has a size. */
  const focusWhenShown = useRef(false);
  const host = useRef<HTMLDivElement>(null);
  const termRef = useRef<XTerm | null>(null);
  const clientRef = useRef<TerminalClient | null>(null);
  const searchRef = useRef<SearchAddon | null>(null);
  const [generation, setGeneration] = useState(0);
  const [searchOpen, setSearchOpen] = useState(false);
  const [query, setQuery] = useState('');
  const [searchResult, setSearchResult] = useState('');
  const searchId = useId();
  // Preferences are shared by every terminal; the connection is this one's (a drill page shows two).
  const { screenReader, fontSize, setScreenReader, setFontSize } = useTerminalStore();
  const [{ status, detail }, setConnection] = useState<{ status: ConnectionStatus; detail: string }>({ status: 'connecting', detail: 'Starting your shell…' });
  const [size, setSizeState] = useState({ cols: 80, rows: 24 });
  const [cluster, setCluster] = useState<string | null>(null);
  const setStatus = useCallback((s: ConnectionStatus, d: string) => setConnection({ status: s, detail: d }), []);
  const setSize = useCallback((cols: number, rows: number) => setSizeState({ cols, rows }), []);

  useEffect(() => {
    if (!host.current) return;
    const store = useTerminalStore.getState();
    const term = new XTerm({
      fontSize: store.fontSize,
      screenReaderMode: store.screenReader,
      scrollback: 10_000,
      cursorBlink: true,
      fontFamily: "ui-monospace, 'DejaVu Sans Mono', Menlo, monospace",
      theme: { background: '#1c2128', foreground: '#d6dde3', cursor: '#f0b429' },
    });
    const fit = new FitAddon();
    const serialize = new SerializeAddon();
    term.loadAddon(fit);
    term.loadAddon(serialize);
    term.loadAddon(new WebLinksAddon());
    term.open(host.current);
    term.textarea?.setAttribute('aria-label', readOnly ? `${label}: read-only. Shift+Tab leaves the terminal.` : `${label}: shell input. Shift+Tab leaves the terminal.`);
    if (readOnly) term.textarea?.setAttribute('aria-readonly', 'true');
    termRef.current = term;
    searchRef.current = null;
    // Never fitted while hidden (a tab not shown): xterm would shrink to its minimum and the shell
    // redraw its prompt over what it printed meanwhile. Shown again, the observer fits it.
    const shown = () => Boolean(host.current?.checkVisibility() && host.current.clientWidth > 0);
    if (shown()) fit.fit();
    setSize(term.cols, term.rows);

    // Shift+Tab is not used by bash; let the browser move focus so keyboard users are not trapped.
    term.attachCustomKeyEventHandler((event) => {
      if (event.key === 'Tab' && event.shiftKey) return false;
      if (passKeyRef.current?.(event)) return false;
      if (event.type === 'keydown' && event.ctrlKey && event.shiftKey && event.key.toLowerCase() === 'f') {
        setSearchOpen(true);
        return false;
      }
      return true;
    });

    let client: TerminalClient | null = null;
    let sessionId = '';
    let disposed = false;
    let attachedCluster: string | null = null;
    const fresh = generation > 0;
    setStatus('connecting', readOnly ? 'Connecting to their shell (read-only)…' : 'Starting your shell and your cluster (a few seconds)…');

    (async () => {
      let body: SessionInfo;
      try {
        body = await session({ cols: term.cols, rows: term.rows }, fresh);
      } catch (error) {
        if (!disposed && error instanceof SessionError) setStatus('failed', error.message);
        else if (!disposed) throw error;
        return;
      }
      if (disposed) return;
      sessionId = body.sessionId;
      setCluster(body.cluster);
      const snapshot = fresh || readOnly ? null : readSnapshot(sessionId, slot);
      if (snapshot) term.write(snapshot.screen);
      const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
      client = new TerminalClient({
        url: `${scheme}//${location.host}${body.socketPath}`,
        createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
        write: (data, done) => term.write(data, done),
        size: () => ({ cols: term.cols, rows: term.rows }),
        onStatus: (s, d) => setStatus(s, readOnly && s === 'connected' ? `Watching (read-only)${attachedCluster ? `; cluster ${attachedCluster}` : ''}.` : d),
        onHello: (message) => {
          attachedCluster = message.cluster;
          setCluster(message.cluster);
          if (message.truncated && client && client.lastWrittenSeq > 0) term.write('\r\n\x1b[2m[irlab: some earlier output is no longer available]\x1b[0m\r\n');
        },
        resumeFrom: snapshot?.seq ?? 0,
      });
      clientRef.current = client;
      client.connect();
    })().catch((error: unknown) => !disposed && setStatus('failed', `Could not reach the irlab server: ${(error as Error).message}. Reload to try again.`));

    // A watcher's keys never leave the page (the server ignores them too) and it never resizes their PTY.
    const input = term.onData((data) => !readOnly && client?.sendInput(data));
    const binary = term.onBinary((data) => !readOnly && client?.sendInput(data));
    const resized = term.onResize(({ cols, rows }) => {
      setSize(cols, rows);
      if (!readOnly) client?.resize(cols, rows);
    });
    const observer = new ResizeObserver(() => {
      if (!shown()) return;
      fit.fit();
      if (focusWhenShown.current) {
        focusWhenShown.current = false;
        term.focus();
      }
    });
    observer.observe(host.current);
    const goOffline = () => client?.offline();
    const goOnline = () => client?.online();
    const save = () => {
      if (!client || !sessionId || readOnly) return;
      const snapshot: Snapshot = { sessionId, seq: client.lastWrittenSeq, screen: serialize.serialize({ scrollback: 2_000 }) };
      try {
        sessionStorage.setItem(snapshotKey(slot), JSON.stringify(snapshot));
      } catch {
        // storage full or disabled: a reload then replays from the server instead
      }
    };
    window.addEventListener('offline', goOffline);
    window.addEventListener('online', goOnline);
    window.addEventListener('pagehide', save);

    return () => {
      disposed = true;
      window.removeEventListener('offline', goOffline);
      window.removeEventListener('online', goOnline);
      window.removeEventListener('pagehide', save);
      observer.disconnect();
      input.dispose();
      binary.dispose();
      resized.dispose();
      client?.dispose();
      clientRef.current = null;
      term.dispose();
      termRef.current = null;
      searchRef.current = null;
    };
    // generation restarts everything for "New session"; the setters are stable.
  }, [generation, label, session, readOnly, slot, setSize, setStatus]);

  // "Run in terminal": once connected, the main terminal types the request, as a paste (bracketed
  // when the shell asks for it, so a multi-line command is not run line by line), then Enter.
  const pending = useTerminalInput((state) => state.pending);
  useEffect(() => {
    const term = termRef.current;
    const client = clientRef.current;
    if (!takesInput || readOnly || !pending || !term || !client || status !== 'connected') return;
    term.paste(pending.text);
    if (pending.submit) client.sendInput('\r');
    if (host.current?.checkVisibility()) term.focus();
    else focusWhenShown.current = true;
    useTerminalInput.getState().taken(pending.id);
  }, [takesInput, readOnly, pending, status]);

  useEffect(() => {
    if (termRef.current) termRef.current.options.screenReaderMode = screenReader;
  }, [screenReader]);
  useEffect(() => {
    if (termRef.current) termRef.current.options.fontSize = fontSize;
  }, [fontSize]);

  // The search addon (a tenth of the terminal's code) loads on the first Find.
  const searchAddon = useCallback(async (): Promise<SearchAddon | null> => {
    const term = termRef.current;
    if (!term || searchRef.current) return searchRef.current;
    const { SearchAddon: Addon } = await import('@xterm/addon-search');
    if (termRef.current !== term) return null; // a new session replaced this terminal meanwhile
    if (!searchRef.current) {
      searchRef.current = new Addon();
      term.loadAddon(searchRef.current);
    }
    return searchRef.current;
  }, []);
  useEffect(() => {
    if (searchOpen) void searchAddon().catch(() => {});
  }, [searchOpen, searchAddon]);

  const find = useCallback(
    async (direction: 'next' | 'previous') => {
      if (!query) return;
      let search: SearchAddon | null;
      try {
        search = await searchAddon();
      } catch {
        return setSearchResult('Find could not load its code; reload the page to try again.');
      }
      if (!search) return;
      const found = direction === 'next' ? search.findNext(query) : search.findPrevious(query);
      setSearchResult(found ? `Found “${query}”.` : `No match for “${query}”.`);
    },
    [query, searchAddon],
  );

  const saveTranscript = () => {
    const term = termRef.current;
    if (!term) return;
    const url = URL.createObjectURL(new Blob([transcript(term)], { type: 'text/plain' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = `irlab-terminal-${new Date().toISOString().replace(/[:.]/g, '-')}.txt`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };

  return (
    <section className="terminal" aria-label={label} data-status={status} data-readonly={readOnly || undefined} data-cols={size.cols} data-rows={size.rows}>
      <div className="terminal-toolbar" role="toolbar" aria-label={`${label} controls`}>
        <button type="button" aria-pressed={screenReader} onClick={() => setScreenReader(!screenReader)}>
          Screen reader mode
        </button>
        <button type="button" aria-expanded={searchOpen} aria-controls={searchId} onClick={() => setSearchOpen(!searchOpen)}>
          Find
        </button>
        <button type="button" onClick={saveTranscript}>
          Save transcript
        </button>
        <button type="button" aria-label="Smaller text" onClick={() => setFontSize(fontSize - 1)}>
          A−
        </button>
        <button type="button" aria-label="Larger text" onClick={() => setFontSize(fontSize + 1)}>
          A+
        </button>
        {!readOnly && status === 'taken-over' && (
          <button type="button" className="primary" onClick={() => clientRef.current?.takeBack()}>
            Use the session here
          </button>
        )}
        {!readOnly && (status === 'exited' || status === 'ended' || status === 'failed') && (
          <button type="button" className="primary" onClick={() => setGeneration((g) => g + 1)}>
            Start a new session
          </button>
        )}
      </div>
      {searchOpen && (
        <form
          id={searchId}
          className="terminal-search"
          role="search"
          onSubmit={(event) => {
            event.preventDefault();
            void find('next');
          }}
        >
          <label>
            Find in output <input type="search" value={query} autoFocus onChange={(e) => setQuery(e.target.value)} onKeyDown={(e) => e.key === 'Escape' && (setSearchOpen(false), termRef.current?.focus())} />
          </label>
          <button type="submit">Next</button>
          <button type="button" onClick={() => void find('previous')}>
            Previous
          </button>
          <span aria-live="polite">{searchResult}</span>
        </form>
      )}
      {/* xterm goes in an unpadded box: its fit reads the parent's CSS height, which with border-box
          includes the frame's padding and border, so a padded parent made it overflow by as much. */}
      <div className="terminal-screen" onClick={() => termRef.current?.focus()}>
        <div className="terminal-host" ref={host} />
      </div>
      <p className="terminal-status">
        <span role="status" aria-live="polite" data-testid="terminal-status">
          {detail}
        </span>
        <span className="terminal-meta">
          {cluster ? (
            <span>
              cluster <span data-testid="terminal-cluster">{cluster}</span> ·{' '}
            </span>
          ) : null}
          <span data-testid="terminal-size">
            {size.cols}×{size.rows}
          </span>
        </span>
      </p>
      <p className="terminal-help muted">
        {readOnly
          ? 'Read-only: you see their shell as they type; your keys are not sent · Shift+Tab leaves the terminal'
          : 'Shift+Tab leaves the terminal · Ctrl+Shift+F finds in output · your files stay in your workspace'}
      </p>
    </section>
  );
}
