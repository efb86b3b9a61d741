/**
 * The engine's routes in front of everything else: `GET /api/engine` (its status, for the page's
 * progress bar), and while the engine is being built (or its build failed), a clear 503 with the
 * progress for what would need a cluster now: a lab start or reset, and a terminal session that
 * would create a cluster of its own. Everything else passes (return false).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { engineBusy, formatSeconds, type EngineStatus } from '../../lib/engine-status.ts';
import { sendJson } from './endpoint.ts';

export interface EngineRoutesOptions {
  status: () => EngineStatus;
  /** Whether a terminal session without a lab gets a cluster from the engine (IRLAB_TERMINAL_CLUSTER=engine). */
  terminalNeedsEngine: () => boolean;
}

const LAB_CLUSTER_ACTION = /^\/api\/labs\/[^/]+\/(start|reset)$/;

/** Why a cluster cannot be had now, in words, or undefined when the engine is not the reason. */
export function engineRefusal(status: EngineStatus): { error: string; hint: string } | undefined {
  switch (status.state) {
    case 'checking':
      return { error: 'The cluster engine is being checked (a few seconds).', hint: 'Try again in a moment.' };
    case 'waiting':
      return { error: `The cluster engine is being built by another process (${status.message}).`, hint: 'This page shows the progress; Start works once it is done.' };
    case 'building':
      return {
        error: `The cluster engine is being built (step ${status.step}/${status.steps}: ${status.what}; about ${formatSeconds(status.remainingSeconds)} left).`,
        hint: 'Start works once it is done; this page shows the progress.',
      };
    case 'failed':
      return { error: `Building the cluster engine failed at "${status.what}": ${status.message}`, hint: status.hint };
    default:
      return undefined;
  }
}

export function createEngineRoutes(options: EngineRoutesOptions): { handle(req: IncomingMessage, res: ServerResponse): boolean } {
  return {
    handle(req, res) {
      const pathname = new URL(req.url ?? '/', 'http://irlab').pathname;
      if (pathname === '/api/engine') {
        if (req.method !== 'GET') {
          sendJson(res, 405, { error: 'use GET /api/engine' }, { allow: 'GET' });
          return true;
        }
        sendJson(res, 200, options.status());
        return true;
      }
      if (req.method !== 'POST') return false;
      const wantsCluster = LAB_CLUSTER_ACTION.test(pathname) || (options.terminalNeedsEngine() && pathname === '/api/terminal/session');
      if (!wantsCluster) return false;
      const status = options.status();
      const refusal = engineRefusal(status);
      if (!refusal) return false;
      sendJson(res, 503, { ...refusal, engine: status }, engineBusy(status) ? { 'retry-after': '10' } : {});
      return true;
    },
  };
}
