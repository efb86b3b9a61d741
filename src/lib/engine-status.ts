/**
 * What `GET /api/engine` answers, shared by the server (src/server/cluster/engine-build.ts) and
 * the page (src/stores/engine-store.ts): whether the cluster engine (the binaries every lab
 * cluster runs) is ready, and while it is being built, how far along.
 */
export type EngineStatus =
  /** The binaries are in place: labs and terminals get clusters. */
  | { state: 'ready' }
  /** build.sh is checking what is missing or stale (a second or two). */
  | { state: 'checking'; elapsedSeconds: number }
  /** Another build of the same cache (npm test, a second server) holds the lock. */
  | { state: 'waiting'; message: string; elapsedSeconds: number }
  | {
      state: 'building';
      /** 1-based step number of `steps`. */
      step: number;
      steps: number;
      /** What the step builds, in words. */
      what: string;
      elapsedSeconds: number;
      remainingSeconds: number;
      /** 0..1 for the bar. */
      fraction: number;
    }
  /** Missing and nobody builds them (this server was started with IRLAB_ENGINE_BUILD=off). */
  | { state: 'missing'; message: string; hint: string }
  | { state: 'failed'; what: string; message: string; hint: string };

/** Whether the engine is on its way (a lab start now would fail; soon it will not). */
export function engineBusy(status: EngineStatus): boolean {
  return status.state === 'checking' || status.state === 'waiting' || status.state === 'building';
}

/** `9 min 38 s`, `42 s`: for the console and the page. */
export function formatSeconds(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  if (whole < 60) return `${whole} s`;
  const minutes = Math.floor(whole / 60);
  const rest = whole % 60;
  return rest ? `${minutes} min ${rest} s` : `${minutes} min`;
}
