/**
 * Shapes the drill modules share (service, scheduler, report data), in a module that imports
 * none of them, so that none of them imports another back.
 */
import type { LogEntry } from '../../lib/drill-view.ts';

export type DrillEvent = { type: 'entry'; entry: LogEntry } | { type: 'state' };

/** What the service needs from the terminal manager (given at construction by the composition root). */
export interface DrillTerminals {
  open(owner: string, lease: () => Promise<{ name: string; kubeconfigPath: string; release(): Promise<void> }>, principal: string, group: string): Promise<{ id: string; createdAt: number }>;
  /** Ends every session of the group, flushing their recordings. */
  closeGroup(group: string): Promise<void>;
  recordingPath(sessionId: string): string;
  workspaceDir(owner: string): string;
}

/** The terminal owner of a participant's shell in a drill. */
export const terminalOwner = (drillId: string, participantId: string) => `d_${drillId}_${participantId}`;

/** The terminal group of a drill: its members may watch each other's sessions. */
export const groupOf = (drillId: string) => `drill:${drillId}`;
