/**
 * Classical item analysis over learners' attempts, for the instructor page.
 * - facility: mean score on the item (share correct, partial credit counted), 0..1, over the
 *   learners who answered it; those who submitted without answering are counted apart;
 * - discrimination: item-rest correlation, the Pearson correlation between the item score and
 *   the learner's score on the other items (as a share of their points), so the item does not
 *   correlate with itself. For right/wrong items this is the point-biserial correlation.
 */

export interface AttemptScores {
  /** Score 0..1 per question id asked in the attempt; null when it was submitted unanswered. */
  scores: Record<string, number | null>;
}

export interface ItemStatistics {
  id: string;
  /** Learners who answered the item (facility and discrimination are over these). */
  n: number;
  /** Learners who were asked the item and submitted without answering it: apart from wrong. */
  unanswered: number;
  facility: number | undefined;
  discrimination: number | undefined;
  flags: string[];
}

export const THRESHOLDS = { tooHard: 0.2, tooEasy: 0.95, weakDiscrimination: 0.2, minResponses: 5, oftenUnanswered: 0.2 } as const;

export function mean(values: readonly number[]): number | undefined {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : undefined;
}

/** Pearson correlation; undefined when either side has no variance or there are fewer than 2 pairs. */
export function pearson(xs: readonly number[], ys: readonly number[]): number | undefined {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return undefined;
  const mx = mean(xs.slice(0, n))!;
  const my = mean(ys.slice(0, n))!;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - mx;
    const dy = ys[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx < 1e-12 || syy < 1e-12) return undefined;
  return sxy / Math.sqrt(sxx * syy);
}

export function itemStatistics(attempts: readonly AttemptScores[], items: ReadonlyArray<{ id: string; points: number }>): ItemStatistics[] {
  const points = new Map(items.map((i) => [i.id, i.points]));
  const totals = attempts.map((a) => {
    let earned = 0;
    let max = 0;
    // The rest score is what the learner earned: an item they left unanswered earned nothing.
    for (const [id, score] of Object.entries(a.scores)) {
      const p = points.get(id) ?? 1;
      earned += p * (score ?? 0);
      max += p;
    }
    return { earned, max };
  });
  return items.map((item) => {
    const scores: number[] = [];
    const rests: number[] = [];
    let unanswered = 0;
    attempts.forEach((attempt, i) => {
      const score = attempt.scores[item.id];
      if (score === undefined) return;
      // Skipped (no time, unclear, placed last) is not the same as answered wrong: counting it
      // as 0 raised false "too hard" flags.
      if (score === null) {
        unanswered++;
        return;
      }
      const total = totals[i]!;
      const restMax = total.max - item.points;
      scores.push(score);
      rests.push(restMax > 0 ? (total.earned - item.points * score) / restMax : 0);
    });
    const facility = mean(scores);
    const discrimination = pearson(scores, rests);
    const flags: string[] = [];
    if (scores.length < THRESHOLDS.minResponses) flags.push(`fewer than ${THRESHOLDS.minResponses} responses: figures are not reliable yet`);
    if (facility !== undefined && facility < THRESHOLDS.tooHard) flags.push('too hard: fewer than 20% answer it correctly (check the key and the wording)');
    if (facility !== undefined && facility > THRESHOLDS.tooEasy) flags.push('too easy: more than 95% answer it correctly');
    const asked = scores.length + unanswered;
    if (asked >= THRESHOLDS.minResponses && unanswered / asked > THRESHOLDS.oftenUnanswered) {
      flags.push(`often left unanswered: ${unanswered} of ${asked} learners submitted without answering (too long, unclear, or too late in the quiz?)`);
    }
    if (discrimination !== undefined && discrimination < 0) flags.push('negative discrimination: stronger learners do worse on it (is the key right?)');
    else if (discrimination !== undefined && discrimination < THRESHOLDS.weakDiscrimination) flags.push('weak discrimination: it hardly separates stronger from weaker learners');
    return { id: item.id, n: scores.length, unanswered, facility, discrimination, flags };
  });
}
