/**
 * What a learner did that someone outside the lab or quiz wants to hear of: an LRS (xAPI
 * statements), an LMS (LTI grade passback), an instructor's live dashboard. The lab service and
 * the quiz engine emit; whoever cares subscribes once, in the composition root.
 *
 * `emit` is async and waits for every listener's own promise: a listener that delivers somewhere
 * (xAPI, LTI scores) only writes its outbox row in that promise and sends in the background, so
 * when the emitter's `await emit(...)` returns, what the learner was just told (a step passed, a
 * quiz submitted) is durable in the store and survives a crash; on an async store (PostgreSQL) no
 * write can happen "inside" a synchronous call, hence the await. Emit never fails because of a
 * listener: a listener that throws or rejects is logged and the others still run, so an LRS or a
 * store write of one listener never breaks a learner's check or submit. Listeners must not wait
 * for the network in their promise (that would slow every check by the LRS's latency).
 */

/** The lab or quiz an event is about. */
export interface LearningActivity {
  kind: 'lab' | 'quiz';
  slug: string;
  title: string;
}

/** A score as xAPI and LTI AGS both want it: scaled 0..1, and raw out of max. */
export interface LearningScore {
  scaled: number;
  raw: number;
  max: number;
}

interface EventBase {
  learnerId: string;
  activity: LearningActivity;
  /** ISO time the event happened (the service's clock). */
  at: string;
}

export type LearningEvent =
  /** A lab run started (a new cluster) or a quiz attempt began. */
  | (EventBase & { type: 'launched'; runId: string })
  /** A quiz question answered (saved; `success` only when the quiz checks answers at once). */
  | (EventBase & { type: 'answered'; runId: string; question: { id: string }; success?: boolean })
  /** A lab step passed for the first time in its run; `step` names it. A quiz passed (its `completed` comes with it). */
  | (EventBase & { type: 'passed'; runId: string; step?: { id: string; title: string }; score: LearningScore })
  /** Every step of a lab run passed, or a quiz attempt submitted (passed or not). */
  | (EventBase & { type: 'completed'; runId: string; score: LearningScore; success: boolean });

export type LearningEventListener = (event: LearningEvent) => void | Promise<void>;

export class LearningEvents {
  readonly #listeners = new Set<LearningEventListener>();
  readonly #onError: (error: unknown, event: LearningEvent) => void;

  constructor(onError: (error: unknown, event: LearningEvent) => void = (error, event) => console.error(`irlab: a listener of "${event.type}" failed: ${error instanceof Error ? error.message : String(error)}`)) {
    this.#onError = onError;
  }

  /** Adds a listener; the returned function removes it. */
  subscribe(listener: LearningEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Tells every listener at once and resolves when each has settled (its durable write done);
   * never rejects: a listener's failure is logged.
   */
  async emit(event: LearningEvent): Promise<void> {
    const settled = [...this.#listeners].map(async (listener) => {
      try {
        await listener(event);
      } catch (error) {
        this.#onError(error, event);
      }
    });
    await Promise.all(settled);
  }
}
