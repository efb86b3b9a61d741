/** Splits a Markdown/MDX file into its YAML frontmatter and body, keeping line numbers. */
export interface Frontmatter {
  /** The YAML text between the `---` fences. */
  yaml: string;
  /** Lines in the file before the YAML text (the opening fence), for error positions. */
  lineOffset: number;
}

const FENCE = /^---\s*$/;

export function splitFrontmatter(text: string): Frontmatter | undefined {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (!FENCE.test(lines[0] ?? '')) return undefined;
  const end = lines.findIndex((line, index) => index > 0 && FENCE.test(line));
  if (end < 0) return undefined;
  return { yaml: lines.slice(1, end).join('\n'), lineOffset: 1 };
}
