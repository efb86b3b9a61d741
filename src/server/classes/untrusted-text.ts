/**
 * Names and messages people type: length-limited, no control or format characters (which could
 * reorder a line, as bidi overrides do, or hide text), and always rendered as text, never HTML.
 */

/** C0/C1 controls, and format characters (bidi overrides, zero-width joiners and the like). */
const FORBIDDEN = /[\p{Cc}\p{Cf}\u2028\u2029]/u;
/** The same, but a message may have line breaks. */
const FORBIDDEN_BUT_NEWLINES = { test: (text: string) => FORBIDDEN.test(text.replace(/\n/g, ' ')) };

export const NAME_MAX = 40;
export const CLASS_NAME_MAX = 80;
export const MESSAGE_MAX = 500;

export type Cleaned = { ok: true; value: string } | { ok: false; error: string };

function clean(raw: unknown, what: string, max: number, forbidden: { test(text: string): boolean }): Cleaned {
  if (typeof raw !== 'string') return { ok: false, error: `${what} is missing: send it as text` };
  const value = raw.normalize('NFC').trim();
  if (!value) return { ok: false, error: `${what} is empty: type at least one letter` };
  if ([...value].length > max) return { ok: false, error: `${what} is longer than ${max} characters: shorten it` };
  if (forbidden.test(value)) return { ok: false, error: `${what} contains a control or invisible formatting character: type it again without` };
  return { ok: true, value };
}

export const cleanName = (raw: unknown, what = 'the name', max = NAME_MAX) => clean(raw, what, max, FORBIDDEN);
export const cleanMessage = (raw: unknown) => clean(raw, 'the message', MESSAGE_MAX, FORBIDDEN_BUT_NEWLINES);
