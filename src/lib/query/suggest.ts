/** "Did you mean" for the query language: nearest words by edit distance. */
import { editDistance } from '../edit-distance.ts';

export { editDistance };


/** Up to `max` candidates close enough to `word` to be a typo of it, closest first. */
export function nearestWords(word: string, candidates: readonly string[], max = 3): string[] {
  const lower = word.toLowerCase();
  return candidates
    .map((candidate) => {
      const c = candidate.toLowerCase();
      // A typo in the last segment of a long path should still find the path.
      const distance = Math.min(editDistance(lower, c), c.endsWith(`.${lower}`) ? 1 : Infinity);
      return { candidate, distance };
    })
    .filter(({ distance, candidate }) => distance <= Math.max(2, Math.floor(candidate.length / 4)))
    .sort((x, y) => x.distance - y.distance || x.candidate.localeCompare(y.candidate))
    .slice(0, max)
    .map(({ candidate }) => candidate);
}
