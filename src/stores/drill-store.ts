import { create } from 'zustand';
import { DrillSocket, mergeLog, type DrillConnection } from '../lib/drill-socket.ts';
import type {
  DrillControlRequest,
  DrillServerMessage,
  DrillTerminalResponse,
  DrillView,
  LogEntry,
  ManualInjectRequest,
  PostLogRequest,
} from '../lib/drill-view.ts';
import type { SocketLike } from '../lib/terminal-client.ts';

/**
 * Client state of one drill page (participant room or facilitator console): the server's view of
 * the drill, kept current by `/ws/drills/<id>`, the log merged by seq, the connection status, and
 * the facilitator's token when there is one. The server is the source of truth; actions post and
 * let the WebSocket bring the result back (the HTTP answer is merged too, so a slow socket does
 * not make the page look stuck).
 */
interface DrillStoreState {
  drillId: string;
  /** Facilitator token (from the URL fragment, kept in sessionStorage), or null for participants. */
  token: string | null;
  drill: DrillView | null;
  log: LogEntry[];
  /** Local time the current clock reading arrived; the clock display extrapolates from it. */
  receivedAt: number;
  connection: DrillConnection;
  connectionDetail: string;
  /** Seq of the last entry that was already on the page at first load: later ones arrived live. */
  loadedSeq: number;
  busy: string | null;
  error: string | null;
  /** Opens the live connection; returns the function that closes it. */
  connect: (drillId: string, token: string | null) => () => void;
  postLog: (request: PostLogRequest) => Promise<boolean>;
  control: (request: DrillControlRequest) => Promise<void>;
  inject: (request: ManualInjectRequest) => Promise<boolean>;
  markExpectation: (id: string, met: boolean) => Promise<void>;
  /** The team's answers to the investigation questions (the latest wins; the step is graded on them). */
  answer: (answers: Record<string, string>) => Promise<boolean>;
  clearError: () => void;
}

/** JSON call to the drill API; the facilitator's token goes in the Authorization header only. */
export async function drillApi<T>(path: string, init: RequestInit = {}, token: string | null = null): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(path, { ...init, headers: { ...headers, ...(init.headers as Record<string, string> | undefined) } });
  const data = (await response.json().catch(() => ({}))) as T & { error?: string };
  if (!response.ok) throw new Error(data.error ?? `The server answered ${response.status}.`);
  return data;
}

const tokenKey = (drillId: string) => `irlab-drill-facilitator:${drillId}`;

/**
 * The facilitator token for this drill: taken from `#token=…` (then removed from the address bar
 * so it is not bookmarked, shared or shown) and kept in sessionStorage for reloads in this tab.
 */
export function facilitatorToken(drillId: string): string | null {
  const fromFragment = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fromFragment) {
    try {
      sessionStorage.setItem(tokenKey(drillId), fromFragment);
    } catch {
      // storage disabled: the token lives as long as this page
    }
    history.replaceState(null, '', location.pathname + location.search);
    return fromFragment;
  }
  try {
    return sessionStorage.getItem(tokenKey(drillId));
  } catch {
    return null;
  }
}

/** The participant's own terminal session on the drill cluster. */
export async function drillTerminalSession(drillId: string): Promise<DrillTerminalResponse> {
  return drillApi<DrillTerminalResponse>(`/api/drills/${encodeURIComponent(drillId)}/terminal`, { method: 'POST', body: '{}' });
}

export const useDrillStore = create<DrillStoreState>()((set, get) => {
  /** Replaces the view but keeps entries the page already has (a state view may carry fewer). */
  const applyView = (drill: DrillView, first: boolean) => {
    const log = mergeLog(get().log, drill.log);
    set({ drill: { ...drill, log }, log, receivedAt: Date.now(), ...(first && get().loadedSeq < 0 ? { loadedSeq: log.at(-1)?.seq ?? 0 } : {}) });
  };
  const onMessage = (message: DrillServerMessage) => {
    if (message.type === 'snapshot') applyView(message.drill, true);
    else if (message.type === 'state') applyView(message.drill, false);
    else if (message.type === 'entry') {
      const log = mergeLog(get().log, [message.entry]);
      const drill = get().drill;
      set({ log, drill: drill ? { ...drill, log } : drill });
    }
  };
  const act = async (label: string, run: () => Promise<void>) => {
    set({ busy: label, error: null });
    try {
      await run();
    } catch (error) {
      set({ error: (error as Error).message });
      throw error;
    } finally {
      set({ busy: null });
    }
  };
  const base = () => `/api/drills/${encodeURIComponent(get().drillId)}`;

  return {
    drillId: '',
    token: null,
    drill: null,
    log: [],
    receivedAt: 0,
    connection: 'connecting',
    connectionDetail: 'Connecting to the drill…',
    loadedSeq: -1,
    busy: null,
    error: null,
    connect: (drillId, token) => {
      set({ drillId, token, drill: null, log: [], loadedSeq: -1, error: null });
      const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
      const socket = new DrillSocket({
        url: `${scheme}//${location.host}/ws/drills/${encodeURIComponent(drillId)}`,
        createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
        token,
        lastSeq: () => get().log.at(-1)?.seq ?? 0,
        onMessage,
        onStatus: (connection, connectionDetail) => set({ connection, connectionDetail }),
      });
      socket.connect();
      const goOffline = () => socket.offline();
      const goOnline = () => socket.online();
      window.addEventListener('offline', goOffline);
      window.addEventListener('online', goOnline);
      return () => {
        window.removeEventListener('offline', goOffline);
        window.removeEventListener('online', goOnline);
        socket.dispose();
      };
    },
    postLog: async (request) => {
      try {
        await act('log', async () => {
          const entry = await drillApi<LogEntry>(`${base()}/log`, { method: 'POST', body: JSON.stringify(request) }, get().token);
          onMessage({ type: 'entry', entry });
        });
        return true;
      } catch {
        return false;
      }
    },
    control: async (request) => {
      await act(`control:${request.action}`, async () => {
        applyView(await drillApi<DrillView>(`${base()}/control`, { method: 'POST', body: JSON.stringify(request) }, get().token), false);
      }).catch(() => {});
    },
    inject: async (request) => {
      try {
        await act('injectId' in request ? `inject:${request.injectId}` : 'inject:manual', async () => {
          await drillApi<unknown>(`${base()}/injects`, { method: 'POST', body: JSON.stringify(request) }, get().token);
        });
        return true;
      } catch {
        return false;
      }
    },
    markExpectation: async (id, met) => {
      await act(`expectation:${id}`, async () => {
        await drillApi<unknown>(`${base()}/expectations/${encodeURIComponent(id)}`, { method: 'POST', body: JSON.stringify({ met }) }, get().token);
      }).catch(() => {});
    },
    answer: async (answers) => {
      try {
        await act('answers', async () => {
          applyView(await drillApi<DrillView>(`${base()}/answers`, { method: 'POST', body: JSON.stringify({ answers }) }, get().token), false);
        });
        return true;
      } catch {
        return false;
      }
    },
    clearError: () => set({ error: null }),
  };
});
