/** "Did you mean" for the query language: nearest words by edit distance. */

export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

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
