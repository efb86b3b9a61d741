/**
 * A KubeConfig whose every request is cancelled by one AbortSignal. client-node 2.0.1 asks the
 * config's `applySecurityAuthentication(context)` before each request of every API client made by
 * `makeApiClient` (it is the clients' "default" auth method), and its fetch library passes
 * `context.getSignal()` to fetch: so setting the signal there reaches every request, in code that
 * never heard of it. Once aborted, a request in flight is torn down and no new one is sent.
 * `callApi` (scenarios/kube-request.ts) honours the same signal through `signalOf`.
 */
import { KubeConfig, type RequestContext } from '@kubernetes/client-node';

export class AbortableKubeConfig extends KubeConfig {
  readonly signal: AbortSignal;

  constructor(signal: AbortSignal) {
    super();
    this.signal = signal;
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    this.signal.throwIfAborted();
    await super.applySecurityAuthentication(context);
    context.setSignal(this.signal);
  }
}

/** The kubeconfig file at `path`, its requests cancelled by `signal`. */
export function abortableKubeConfig(path: string, signal: AbortSignal): AbortableKubeConfig {
  const kc = new AbortableKubeConfig(signal);
  kc.loadFromFile(path);
  return kc;
}

/** The signal that cancels `kc`'s requests, if it is an abortable one. */
export function signalOf(kc: KubeConfig): AbortSignal | undefined {
  return kc instanceof AbortableKubeConfig ? kc.signal : undefined;
}
