/**
 * The `##`-`######` headings of a Markdown/MDX body and the anchors the site gives them, so that
 * other content (quiz explanations) can link to a lesson section and validation can prove the
 * link lands. Anchors follow GitHub's slug rules, which Astro uses for heading ids.
 */
export interface Heading {
  depth: number;
  text: string;
  slug: string;
}

/** GitHub-style slug: lower-case, punctuation dropped, spaces to dashes, repeats numbered. */
export function slugger() {
  const seen = new Map<string, number>();
  return (text: string): string => {
    const base = text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
    const count = seen.get(base);
    seen.set(base, (count ?? -1) + 1);
    return count === undefined ? base : `${base}-${count + 1}`;
  };
}

/** Heading text as rendered: inline code, emphasis and link syntax removed. */
function plainText(markdown: string): string {
  return markdown
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/(\*\*|__|\*|_)(.+?)\1/g, '$2')
    .trim();
}

export function extractHeadings(body: string): Heading[] {
  const slug = slugger();
  const headings: Heading[] = [];
  let fence: string | undefined;
  for (const line of body.split(/\r?\n/)) {
    const fenceMatch = /^\s*(```+|~~~+)/.exec(line);
    if (fenceMatch) {
      if (!fence) fence = fenceMatch[1]!.slice(0, 3);
      else if (line.trim().startsWith(fence)) fence = undefined;
      continue;
    }
    if (fence) continue;
    const match = /^(#{2,6})\s+(.+?)\s*#*\s*$/.exec(line);
    if (match) {
      const text = plainText(match[2]!);
      headings.push({ depth: match[1]!.length, text, slug: slug(text) });
    }
  }
  return headings;
}
