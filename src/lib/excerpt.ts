/**
 * Messages may show a learner a piece of what they wrote, never a whole file: whatever a value
 * holds (a token, a key, 16 MB of YAML), a message carries a short, one-line excerpt of it.
 */

/** Characters of one quoted value in a message. */
export const EXCERPT_CHARS = 32;

/** `text` on one line, cut to `max` characters with an ellipsis. */
export function excerpt(text: string, max = EXCERPT_CHARS): string {
  const flat = text.replace(/\s+/g, ' ');
  if (flat.length <= max) return flat;
  // Cut on code points so no half of a surrogate pair is left.
  return `${Array.from(flat.slice(0, max + 1)).slice(0, max - 1).join('')}…`;
}

/** An excerpt in double quotes (JSON string syntax), as messages quote values. */
export function quoted(text: string, max = EXCERPT_CHARS): string {
  return JSON.stringify(excerpt(text, max));
}
