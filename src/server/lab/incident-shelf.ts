/**
 * Incidents seeded ahead of time. A warm cluster is claimed in a millisecond, but seeding the
 * scenario into it (world, settling, tokens, the attack timeline, pod trees, audit read-back)
 * takes seconds, and a learner who presses Start should not wait for it. The shelf keeps
 * `perLab` incidents per lab, each a claimed cluster seeded with a fresh random seed, and
 * prepares the next one in the background whenever one is taken. Nothing about the learner goes
 * into seeding, so a shelved incident is as much the learner's own as one seeded on demand.
 */
import type { ClusterInfo } from '../cluster/types.ts';

export interface PreparedIncident {
  cluster: ClusterInfo;
  seed: string;
}

export interface IncidentShelfOptions {
  /** Seeds one incident of a lab (claims its cluster; releases it again if seeding fails). */
  prepare: (lab: string) => Promise<PreparedIncident>;
  /** Gives back the cluster of an incident nobody took (on close). */
  discard: (incident: PreparedIncident) => Promise<void>;
  perLab: number;
  onError?: (lab: string, error: unknown) => void;
}

export class IncidentShelf {
  private readonly options: IncidentShelfOptions;
  private readonly shelves = new Map<string, Array<Promise<PreparedIncident>>>();
  private closed = false;

  constructor(options: IncidentShelfOptions) {
    this.options = options;
  }

  /** Starts preparing until `lab` has `perLab` incidents ready or on the way. */
  fill(lab: string): void {
    if (this.closed) return;
    const shelf = this.shelves.get(lab) ?? [];
    this.shelves.set(lab, shelf);
    while (shelf.length < this.options.perLab) {
      const preparing = this.options.prepare(lab);
      // A failed preparation leaves the shelf, so the next take seeds on demand instead.
      preparing.catch((error: unknown) => {
        const at = shelf.indexOf(preparing);
        if (at >= 0) shelf.splice(at, 1);
        this.options.onError?.(lab, error);
      });
      shelf.push(preparing);
    }
  }

  /**
   * The oldest incident of `lab` (ready, or still being seeded: waiting for it is never slower
   * than starting over), or undefined when the shelf is empty. The shelf refills behind it.
   */
  take(lab: string): Promise<PreparedIncident> | undefined {
    const shelf = this.shelves.get(lab);
    const taken = shelf?.shift();
    // Refill even when empty (an earlier preparation failed): the next learner may be luckier.
    if (shelf) this.fill(lab);
    return taken;
  }

  /** How many incidents of `lab` are ready or on the way. */
  count(lab: string): number {
    return this.shelves.get(lab)?.length ?? 0;
  }

  /** Stops refilling and gives back every incident still on the shelf. */
  async close(): Promise<void> {
    this.closed = true;
    const left = [...this.shelves.values()].flat();
    this.shelves.clear();
    await Promise.all(left.map((p) => p.then((incident) => this.options.discard(incident), () => undefined)));
  }
}
