/** Builds a lesson's table of contents from the headings Astro extracts from its MDX. */
export interface Heading {
  depth: number;
  slug: string;
  text: string;
}

export interface TocEntry {
  slug: string;
  text: string;
  children: TocEntry[];
}

/**
 * Nests `###` under the preceding `##`; other depths are left out because a deeper TOC stops
 * being a map. A `###` before any `##` becomes a top-level entry rather than being dropped.
 */
export function buildToc(headings: readonly Heading[]): TocEntry[] {
  const toc: TocEntry[] = [];
  for (const heading of headings) {
    const entry: TocEntry = { slug: heading.slug, text: heading.text, children: [] };
    if (heading.depth === 2) toc.push(entry);
    else if (heading.depth === 3) (toc.at(-1)?.children ?? toc).push(entry);
  }
  return toc;
}

/** Slugs in reading order, for scroll tracking. */
export function flattenToc(toc: readonly TocEntry[]): string[] {
  return toc.flatMap((entry) => [entry.slug, ...flattenToc(entry.children)]);
}
